// Type-checked against the generated types (tsc --noEmit), then run by Node 24: the README's first event and one with every optional field.
import createClient from 'openapi-fetch';
import type { paths } from '../.generated/openapi-typescript/schema.ts';

type CustomEvent = paths['/v1/custom-events']['post']['requestBody']['content']['application/json'];

const minimal: CustomEvent = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
const everyField: CustomEvent = {
  ...minimal,
  userType: 'LEAD',
  date: Date.now() - 60_000,
  accountId: 'acme-corp',
  sessionId: 's-42',
  attributes: { plan: 'pro', seats: 5, trial: false, nested: { a: 1 } },
  globalContext: { appVersion: '2.3.1' },
  url: 'https://app.example.com/signup',
  referrer: 'https://www.example.com/',
  remoteHost: '203.0.113.7',
};

const client = createClient<paths>({ baseUrl: process.env.GATEWAY_REST_URL });
let failed = 0;
for (const body of [minimal, everyField]) {
  const { response } = await client.POST('/v1/custom-events', { body });
  process.stdout.write(
    `${response.status === 201 ? 'ok  ' : 'FAIL'} openapi-fetch: POST /v1/custom-events ${Object.keys(body).length} fields -> ${response.status}\n`,
  );
  if (response.status !== 201) failed += 1;
}
process.exit(failed > 0 ? 1 : 0);
