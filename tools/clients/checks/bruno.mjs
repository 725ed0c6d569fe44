// Bruno's OpenAPI import (@usebruno/converters, what the app's "Import collection → OpenAPI" runs): the environment is
// named after the short servers description, and "Send a custom event" sent as imported (enabled headers, the JSON
// body, the environment's baseUrl) answers 201, not 202 (nothing pre-fills Prefer), twice, and is recorded twice.
import { createRequire } from 'node:module';
import { check, done, restUrl, sandboxCount } from './support.mjs';

const require = createRequire(import.meta.url);
const { openApiToBruno } = require('@usebruno/converters');
const spec = await (await fetch(`${restUrl}/openapi.json`)).json();
const collection = openApiToBruno(spec);
const items = (list) => list.flatMap((item) => (item.items ? items(item.items) : [item]));
const send = items(collection.items).find((item) => item.request?.method === 'POST' && /\/v1\/custom-events$/.test(item.request.url));
check(send !== undefined, 'Bruno imported POST /v1/custom-events');
check(
  collection.environments.length === 1 && collection.environments[0].name === 'This gateway',
  `one environment, named "This gateway" (${collection.environments.map((e) => e.name).join(', ')})`,
);
if (send) {
  const variables = Object.fromEntries(collection.environments[0]?.variables.map((v) => [v.name, v.value]) ?? []);
  const url = send.request.url.replace(/\{\{(\w+)\}\}/g, (_, name) => variables[name] ?? '');
  const headers = Object.fromEntries(send.request.headers.filter((h) => h.enabled).map((h) => [h.name, h.value]));
  check(!('Prefer' in headers), `no enabled Prefer header (enabled: ${Object.keys(headers).join(', ') || 'none'})`);
  const before = await sandboxCount();
  for (const attempt of [1, 2]) {
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: send.request.body.json,
    });
    const text = await answer.text();
    check(answer.status === 201, `send ${attempt} as imported -> ${answer.status} ${answer.status === 201 ? '' : text.slice(0, 300)}`);
  }
  check((await sandboxCount()) === before + 2, 'both sends recorded in the sandbox');
}
done('bruno');
