// What every reference proxy does upstream: POST the JSON with the key header over a keep-alive
// node:http Agent (undici is not installed in this repo), drain the answer, resolve its status.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
const key = process.env.BENCH_PX_KEY ?? 'bench-px-key';

/** @returns {Promise<number>} the upstream status */
export function forward(upstreamUrl, body) {
  const url = new URL('/v1/events/custom', upstreamUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          accept: 'application/json',
          'x-aptrinsic-api-key': key,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 502));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}
