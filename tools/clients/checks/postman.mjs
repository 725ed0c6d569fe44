// openapi-to-postmanv2 (as Postman's importer and its CLI run it): every generated request for POST /v1/custom-events,
// sent exactly as generated, answers 2xx twice in a row, in the default (schema) and the example mode.
import { createRequire } from 'node:module';
import { check, done, restUrl } from './support.mjs';

const converter = createRequire(import.meta.url)('openapi-to-postmanv2');
const spec = await (await fetch(`${restUrl}/openapi.json`)).json();
const convert = (options) =>
  new Promise((resolve, reject) =>
    converter.convertV2({ type: 'json', data: spec }, options, (error, result) => (error ? reject(error) : resolve(result))),
  );
// Open (issue 15): the generator fills a `date` placeholder no server can accept ("<integer>", or a random string
// for the date-time branch), and an Idempotency-Key generated from its pattern is one fixed value per collection.
const KNOWN_SCHEMA_MODE_DATE = 'schema mode sends a date placeholder the gateway refuses (400)';
const KNOWN_FIXED_KEY =
  'the generated Idempotency-Key is fixed in the collection, so a second Send is a replay (Idempotent-Replayed: true)';
const requests = (items) => items.flatMap((item) => (item.item ? requests(item.item) : [item.request]));

for (const [mode, options] of [
  ['schema (default)', {}],
  ['example', { parametersResolution: 'Example' }],
]) {
  const result = await convert(options);
  check(result.result === true, `postman ${mode}: converted`);
  const sends = requests(result.output[0].data.item).filter((r) => r.method === 'POST' && r.url.path.join('/') === 'v1/custom-events');
  check(sends.length > 0, `postman ${mode}: has POST /v1/custom-events`);
  for (const request of sends) {
    const headers = Object.fromEntries(request.header.filter((h) => !h.disabled).map((h) => [h.key, h.value]));
    for (const attempt of [1, 2]) {
      const answer = await fetch(`${restUrl}/v1/custom-events`, { method: 'POST', headers, body: request.body.raw });
      const text = await answer.text();
      check(
        answer.ok,
        `postman ${mode}: send ${attempt} -> ${answer.status} ${answer.ok ? '' : text.slice(0, 300)}`,
        mode === 'example' ? undefined : KNOWN_SCHEMA_MODE_DATE,
      );
      check(
        answer.headers.get('idempotent-replayed') === null,
        `postman ${mode}: send ${attempt} recorded (not a silent replay)`,
        attempt === 2 && answer.ok ? KNOWN_FIXED_KEY : undefined,
      );
    }
  }
}
done('postman');
