// The gateway's own Postman collection (GET /postman.json), run by newman exactly as served: every request passes
// its own tests (a documented status; problem+json on errors), the custom-event request answers 201, and sent twice
// it records two events in the sandbox (each send carries a fresh {{$guid}} Idempotency-Key, so neither is a replay).
import newman from 'newman';
import { check, done, restUrl, sandboxCount } from './support.mjs';

const collection = await (await fetch(`${restUrl}/postman.json`)).json();
const run = (options) =>
  new Promise((resolve, reject) =>
    newman.run({ collection, reporters: ['cli'], ...options }, (error, summary) => (error ? reject(error) : resolve(summary))),
  );
const SEND_EVENT = 'Send a custom event';
const requests = collection.item.flatMap((folder) => folder.item);
check(requests.length > 0, `the collection has requests (${requests.length})`);
check(
  requests.every((r) => r.event?.some((e) => e.listen === 'test' && e.script.exec.length > 0)),
  'every request has tests',
);
check(
  collection.variable.some((v) => v.key === 'baseUrl' && v.value === restUrl) && collection.variable.some((v) => v.key === 'inboundKey'),
  'variables baseUrl (this gateway) and inboundKey',
);

const all = await run({});
const { assertions, requests: sent } = all.run.stats;
check(sent.total === requests.length, `newman sent every request (${sent.total} of ${requests.length})`);
check(assertions.total >= requests.length, `newman ran the tests (${assertions.total} assertions)`);
check(
  all.run.failures.length === 0,
  `every assertion passed (${all.run.failures.length} failed: ${all.run.failures.map((f) => `${f.source?.name}: ${f.error?.message}`).join('; ')})`,
);
const answers = all.run.executions.map((e) => `${e.item.name} -> ${e.response?.code}`);
check(
  all.run.executions.some((e) => e.item.name === SEND_EVENT && e.response?.code === 201),
  `"${SEND_EVENT}" answered 201 (${answers.find((a) => a.startsWith(SEND_EVENT))})`,
);

const folder = collection.item.find((f) => f.item.some((r) => r.name === SEND_EVENT));
const before = await sandboxCount();
const twice = await run({ folder: SEND_EVENT, iterationCount: 2 });
check(twice.run.failures.length === 0, `"${SEND_EVENT}" twice: every assertion passed`);
check(
  twice.run.executions.length === 2 &&
    twice.run.executions.every((e) => e.response?.code === 201 && !e.response.headers.has('Idempotent-Replayed')),
  `"${SEND_EVENT}" twice: 201 both times, neither a replay (folder ${folder?.name})`,
);
check((await sandboxCount()) === before + 2, `"${SEND_EVENT}" twice: two events recorded in the sandbox`);
done('postman-newman');
