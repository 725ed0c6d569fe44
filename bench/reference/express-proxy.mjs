// Reference (c): the floor for any Express-based gateway. Express 5 + express.json() + one route
// forwarding with undici (the same pool code as (b)), relaying the status.
import express from 'express';
import { listen } from './express-server.mjs';
import { forward } from './forward.mjs';

const upstream = process.env.UPSTREAM_URL;

const app = express();
app.use(express.json());
app.post('/v1/custom-events', async (request, response) => {
  try {
    response.status(await forward(upstream, request.body)).end();
  } catch {
    response.status(502).end();
  }
});
const server = listen(app, () => process.send?.({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('SIGTERM', () => process.exit(0));
