// The benchmark's trace collector: node:http on loopback taking OTLP/HTTP exports (POST /v1/traces) and answering
// 200 as a collector does, without decoding (the tests decode; here it should cost the machine as little as
// possible). Reports the exports and bytes it took, so the t row shows the spans really left the gateway.
import { createServer } from 'node:http';

const counts = { exports: 0, bytes: 0, other: 0 };
process.on('message', (message) => {
  if (message === 'counts') process.send?.({ counts });
});

const server = createServer((request, response) => {
  let bytes = 0;
  request.on('data', (chunk) => {
    bytes += chunk.length;
  });
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/traces') {
      counts.other += 1;
      response.writeHead(404, { 'content-length': '0' }).end();
      return;
    }
    counts.exports += 1;
    counts.bytes += bytes;
    response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
