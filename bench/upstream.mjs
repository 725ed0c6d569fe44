// The benchmark's upstream: node:http on loopback answering 201 (empty body, as Gainsight PX does) to
// POST /v1/events/custom when the X-APTRINSIC-API-KEY header carries the expected key; 401 without it,
// 404 elsewhere, so a proxy that forgets the key or the path shows up as non-2xx.
import { createServer } from 'node:http';

const key = process.env.BENCH_PX_KEY ?? 'bench-px-key';
/** Answers by status, reported to the harness on request. */
const counts = { 201: 0, 401: 0, 404: 0 };
process.on('message', (message) => {
  if (message === 'counts') process.send?.({ counts });
});

const server = createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/events/custom') {
      counts[404] += 1;
      response.writeHead(404, { 'content-length': '0' }).end();
    } else if (request.headers['x-aptrinsic-api-key'] !== key) {
      counts[401] += 1;
      response.writeHead(401, { 'content-length': '0' }).end();
    } else {
      counts[201] += 1;
      response.writeHead(201, { 'content-length': '0' }).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
