// Reference (b): the floor for any Node hop. node:http server, parse the JSON body, inject the key,
// forward over an undici keep-alive pool, relay the status. No framework, no logging, no checks.
import { createServer } from 'node:http';
import { forward } from './forward.mjs';

const upstream = process.env.UPSTREAM_URL;

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return void response.writeHead(400, { 'content-length': '0' }).end();
    }
    forward(upstream, body).then(
      (status) => response.writeHead(status, { 'content-length': '0' }).end(),
      () => response.writeHead(502, { 'content-length': '0' }).end(),
    );
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('SIGTERM', () => process.exit(0));
