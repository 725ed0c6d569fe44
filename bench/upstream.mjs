// The benchmark's upstream: node:http on loopback answering 201 (empty body, as Gainsight PX does) to
// POST /v1/events/custom when the X-APTRINSIC-API-KEY header carries the expected key; 401 without it,
// 404 elsewhere, so a proxy that forgets the key or the path shows up as non-2xx.
import { createServer } from 'node:http';

const key = process.env.BENCH_PX_KEY ?? 'bench-px-key';
/** Answers by status, reported to the harness on request. */
const counts = { 201: 0, 401: 0, 404: 0, 429: 0 };
/** BENCH_UPSTREAM_RATE: requests per second before 429 (PX allows about 200); a fixed one-second window. */
const ratePerSecond = Number(process.env.BENCH_UPSTREAM_RATE ?? 0);
let window = { second: 0, count: 0 };
/** First and latest time (ms) a 201 was answered: the delivery drain's pace. */
const answered = { first: 0, last: 0 };
/** BENCH_UPSTREAM_DELAY_MS: `min-max`, each 201 answered after a random delay in that range (a slow PX). */
const [delayMin, delayMax] = (process.env.BENCH_UPSTREAM_DELAY_MS ?? '0-0').split('-').map(Number);
/** Requests being answered now, and the most at once. */
let concurrent = 0;
let maxConcurrent = 0;
process.on('message', (message) => {
  if (message === 'counts') process.send?.({ counts, answered, maxConcurrent });
});

const server = createServer((request, response) => {
  concurrent += 1;
  maxConcurrent = Math.max(maxConcurrent, concurrent);
  response.on('close', () => {
    concurrent -= 1;
  });
  request.on('data', () => {});
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== '/v1/events/custom') {
      counts[404] += 1;
      response.writeHead(404, { 'content-length': '0' }).end();
    } else if (request.headers['x-aptrinsic-api-key'] !== key) {
      counts[401] += 1;
      response.writeHead(401, { 'content-length': '0' }).end();
    } else if (ratePerSecond > 0 && overRate()) {
      counts[429] += 1;
      response.writeHead(429, { 'content-length': '0' }).end();
    } else {
      const answer = () => {
        counts[201] += 1;
        answered.last = Date.now();
        answered.first ||= answered.last;
        response.writeHead(201, { 'content-length': '0' }).end();
      };
      if (delayMax > 0) setTimeout(answer, delayMin + Math.random() * (delayMax - delayMin));
      else answer();
    }
  });
});
function overRate() {
  const second = Math.floor(Date.now() / 1000);
  if (window.second !== second) window = { second, count: 0 };
  window.count += 1;
  return window.count > ratePerSecond;
}

server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${server.address().port}` });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
