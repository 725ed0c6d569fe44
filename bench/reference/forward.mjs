// What every reference proxy does upstream: POST the JSON with the key header over an undici keep-alive
// pool, drain the answer, resolve its status.
import { Pool } from 'undici';

const key = process.env.BENCH_PX_KEY ?? 'bench-px-key';
const pools = new Map();

/** @returns {Promise<number>} the upstream status */
export async function forward(upstreamUrl, body) {
  let pool = pools.get(upstreamUrl);
  if (!pool) {
    pool = new Pool(upstreamUrl, { connections: 256, pipelining: 1 });
    pools.set(upstreamUrl, pool);
  }
  const answer = await pool.request({
    path: '/v1/events/custom',
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-aptrinsic-api-key': key },
    body: JSON.stringify(body),
  });
  await answer.body.dump();
  return answer.statusCode;
}
