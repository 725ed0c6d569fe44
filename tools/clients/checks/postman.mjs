// openapi-to-postmanv2 (as Postman's importer and its CLI run it): every generated request for POST /v1/custom-events,
// sent exactly as generated, answers 2xx twice in a row, in the default (schema) and the example mode; with the
// docs/clients.md's two edits (untick Idempotency-Key, give `date` a real value or delete it) it is recorded twice; and the
// docs/clients.md's setup line (the CLI, example mode, optional parameters off) makes requests recorded twice as generated.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, done, restUrl, sandboxCount } from './support.mjs';

const require = createRequire(import.meta.url);
const converter = require('openapi-to-postmanv2');
const spec = await (await fetch(`${restUrl}/openapi.json`)).json();
const convert = (options) =>
  new Promise((resolve, reject) =>
    converter.convertV2({ type: 'json', data: spec }, options, (error, result) => (error ? reject(error) : resolve(result))),
  );
/** docs/clients.md's setup line: `openapi2postmanv2 -s openapi.json -o collection.json -O <options>` (the CLI reads a file, not a URL). */
function convertWithCli(options) {
  const dir = mkdtempSync(join(tmpdir(), 'postman-'));
  try {
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(spec));
    const cli = join(require.resolve('openapi-to-postmanv2/package.json'), '../bin/openapi2postmanv2.js');
    const run = spawnSync(process.execPath, [cli, '-s', join(dir, 'openapi.json'), '-o', join(dir, 'collection.json'), '-O', options], {
      encoding: 'utf8',
    });
    if (run.status !== 0) return { result: false, reason: run.stderr };
    return { result: true, output: [{ data: JSON.parse(readFileSync(join(dir, 'collection.json'), 'utf8')) }] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// Open (issue 15), and not fixable in the document or the gateway without saying something false (docs/clients.md):
// in schema mode the converter writes every optional property with a type placeholder, `date` (its oneOf's first
// branch) as "<integer>"; and it writes the optional Idempotency-Key header, enabled, with one value fixed at conversion.
const KNOWN_SCHEMA_MODE_DATE = 'schema mode sends the placeholder "date": "<integer>", which the gateway refuses (400 at /date only)';
const KNOWN_FIXED_KEY =
  'the generated Idempotency-Key is fixed in the collection, so a second Send is a retry, answered as a replay (Idempotent-Replayed: true)';
const requests = (items) => items.flatMap((item) => (item.item ? requests(item.item) : [item.request]));

async function send(headers, body) {
  const answer = await fetch(`${restUrl}/v1/custom-events`, { method: 'POST', headers, body });
  const text = await answer.text();
  const pointers =
    answer.headers.get('content-type')?.includes('json') && !answer.ok ? (JSON.parse(text).errors ?? []).map((e) => e.pointer) : [];
  return { status: answer.status, ok: answer.ok, replayed: answer.headers.get('idempotent-replayed') !== null, text, pointers };
}

const DOCUMENTED_SETUP = 'parametersResolution=Example,enableOptionalParameters=false';
for (const [mode, conversion] of [
  ['schema (default)', () => convert({})],
  ['example', () => convert({ parametersResolution: 'Example' })],
  [`CLI -O ${DOCUMENTED_SETUP} (docs/clients.md)`, () => convertWithCli(DOCUMENTED_SETUP)],
]) {
  const result = await conversion();
  check(result.result === true, `postman ${mode}: converted ${result.reason ?? ''}`);
  if (result.result !== true) continue;
  const sends = requests(result.output[0].data.item).filter((r) => r.method === 'POST' && r.url.path.join('/') === 'v1/custom-events');
  check(sends.length > 0, `postman ${mode}: has POST /v1/custom-events`);
  for (const request of sends) {
    const headers = Object.fromEntries(request.header.filter((h) => !h.disabled).map((h) => [h.key, h.value]));
    const generatedBefore = await sandboxCount();
    const generated = [];
    for (const attempt of [1, 2]) {
      const answer = await send(headers, request.body.raw);
      generated.push(answer);
      const [first] = generated;
      // A known failure is only the one described: any other refusal, or a 400 about another field, fails the run.
      const onlyDateRefused = answer.status === 400 && answer.pointers.length === 1 && answer.pointers[0] === '/date';
      check(
        answer.ok,
        `postman ${mode}: send ${attempt} as generated -> ${answer.status} ${answer.ok ? '' : answer.text.slice(0, 300)}`,
        mode.startsWith('schema') && onlyDateRefused ? KNOWN_SCHEMA_MODE_DATE : undefined,
      );
      check(
        !answer.replayed,
        `postman ${mode}: send ${attempt} as generated recorded (not a replay)`,
        attempt === 2 && answer.replayed && first.ok && 'Idempotency-Key' in headers ? KNOWN_FIXED_KEY : undefined,
      );
    }
    if (generated.every((answer) => answer.status === 201 && !answer.replayed)) {
      check((await sandboxCount()) === generatedBefore + 2, `postman ${mode}: both sends as generated recorded in the sandbox`);
    }

    // docs/clients.md's edits: untick Idempotency-Key, and give `date` a real value (here: delete it, PX stamps the time).
    const { 'Idempotency-Key': _fixedKey, ...edited } = headers;
    const body = JSON.parse(request.body.raw);
    if (body.date === '<integer>' || body.date === '<dateTime>') delete body.date;
    const before = await sandboxCount();
    const answers = [await send(edited, JSON.stringify(body)), await send(edited, JSON.stringify(body))];
    for (const [index, answer] of answers.entries()) {
      check(
        answer.ok && !answer.replayed,
        `postman ${mode}: send ${index + 1} with the edits docs/clients.md names -> ${answer.status}${answer.replayed ? ' (replay)' : ''} ${answer.ok ? '' : answer.text.slice(0, 300)}`,
      );
    }
    // Synchronous sends are in the sandbox already; queued ones (the example mode fills Prefer: respond-async) later.
    if (answers.every((answer) => answer.status === 201))
      check((await sandboxCount()) === before + 2, `postman ${mode}: both edited sends recorded in the sandbox`);
  }
}
done('postman');
