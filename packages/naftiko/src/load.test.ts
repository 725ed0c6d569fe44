import type { OperationDescriptor, PluginDescriptor, UpstreamRequest } from '@gateway/core';
import { describe, expect, it } from 'vitest';
import { seedText } from '../test/seed.ts';
import {
  type CapabilityLoad,
  type Diagnostic,
  formatDiagnostic,
  type LoadOptions,
  loadCapability,
  loadCapabilityOrThrow,
} from './index.ts';

const SEED_ENV = { GAINSIGHT_API_KEY: 'px-key-unit' };

function load(text: string, options: LoadOptions = {}): CapabilityLoad {
  return loadCapability(text, { file: 'test.yaml', ...options });
}

function descriptorsOf(text: string, options: LoadOptions = {}): readonly PluginDescriptor[] {
  const result = load(text, options);
  if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.capability.descriptors;
}

function operation(descriptor: PluginDescriptor | undefined, id: string): OperationDescriptor<any> {
  const found = descriptor?.operations.find((o) => o.id === id);
  if (!found) throw new Error(`no operation ${id} in ${descriptor?.operations.map((o) => o.id).join(', ')}`);
  return found;
}

function request(op: OperationDescriptor<any>, input: Record<string, unknown>): UpstreamRequest {
  return op.upstream.toRequest?.(input, { requestId: 'r-1', delivery: 'direct', receivedAt: 0 }) as UpstreamRequest;
}

const errors = (result: CapabilityLoad): Diagnostic[] => result.diagnostics.filter((d) => d.severity === 'error');
const warnings = (result: CapabilityLoad): Diagnostic[] => result.diagnostics.filter((d) => d.severity === 'warning');

/** A minimal capability around one consumed operation and its exposures. */
function capability(parts: { binds?: string; consumes: string; exposes: string }): string {
  return `naftiko: 1.0.0-alpha2
info:
  label: Unit
  description: Unit test capability.
${parts.binds ?? ''}
capability:
  consumes:
${indent(parts.consumes, 4)}
  exposes:
${indent(parts.exposes, 4)}
`;
}

function indent(text: string, spaces: number): string {
  return text
    .trim()
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}

describe('the seed, verbatim', () => {
  it('loads with one warning per deviation, each naming its YAML path and line', () => {
    const result = load(seedText(), { environment: SEED_ENV });
    expect(errors(result)).toEqual([]);
    const found = warnings(result).map((w) => [w.path, w.line]);
    expect(found).toEqual([
      ['capability.consumes[0].resources[0].name', 22],
      ['capability.consumes[0].resources[0].operations[0].inputParameters[0]', 34],
      ['capability.exposes[0].description', 48],
      ['capability.exposes[0].resources[0].operations[0].outputParameters[0]', 62],
      ['capability.exposes[1].tools[0].outputParameters[0]', 81],
    ]);
    expect(warnings(result)[0]?.message).toMatch(/custom_events.*underscore/);
    expect(warnings(result)[1]?.message).toMatch(/"type", "description", "required"/);
    expect(warnings(result)[3]?.message).toMatch(/without "properties".*passed through/);
  });

  it('becomes one descriptor whose one operation carries the REST route and the MCP tool', () => {
    const [descriptor, ...others] = descriptorsOf(seedText(), { environment: SEED_ENV });
    expect(others).toEqual([]);
    expect(descriptor?.id).toBe('px-custom-events');
    expect(descriptor?.upstream.baseUrl).toBe('https://api.aptrinsic.com/v1');
    expect(descriptor?.upstream.auth).toEqual({
      type: 'apikey',
      in: 'header',
      name: 'X-APTRINSIC-API-KEY',
      secret: { source: 'GAINSIGHT_API_KEY', value: 'px-key-unit' },
    });
    const op = operation(descriptor, 'sendcustomevent');
    expect(op.rest).toEqual({ method: 'POST', path: '/v1/custom-events', parameters: { body: 'body' } });
    expect(op.mcp).toEqual({
      tool: 'gainsight-send-custom-event',
      description: 'Gainsight Send a custom event',
      hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    });
    expect(op.input).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: { body: { type: 'object', description: 'Request body (JSON).' } },
      required: ['body'],
    });
    expect(op.upstream.errors).toBe('passthrough');
    // rest.body / tools.body is the caller's body, sent as the JSON body (the reference engine sends the literal text).
    expect(request(op, { body: { eventName: 'Signup' } })).toEqual({
      method: 'POST',
      path: '/custom_events',
      body: { eventName: 'Signup' },
    });
  });

  it('refuses to serve without GAINSIGHT_API_KEY, naming it; a validation may only warn', () => {
    const strict = load(seedText(), { environment: {} });
    expect(strict.ok).toBe(false);
    expect(errors(strict)).toMatchObject([
      { path: 'binds[0].keys.GAINSIGHT_API_KEY', line: 14, message: expect.stringContaining('GAINSIGHT_API_KEY is not set') },
    ]);
    const lenient = load(seedText(), { environment: {}, requireBindings: false });
    expect(lenient.ok).toBe(true);
    expect(warnings(lenient)[0]?.message).toMatch(/GAINSIGHT_API_KEY is not set.*refuse to start/);
  });

  it('takes its base URI from CAPABILITY_BASE_URI_<NAMESPACE> or the baseUris option', () => {
    const fromEnvironment = descriptorsOf(seedText(), {
      environment: { ...SEED_ENV, CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS: 'http://127.0.0.1:1/v1/' },
    });
    expect(fromEnvironment[0]?.upstream.baseUrl).toBe('http://127.0.0.1:1/v1');
    const fromOption = descriptorsOf(seedText(), { environment: SEED_ENV, baseUris: { 'px-custom-events': 'http://127.0.0.1:2' } });
    expect(fromOption[0]?.upstream.baseUrl).toBe('http://127.0.0.1:2');
    const bad = load(seedText(), { environment: { ...SEED_ENV, CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS: 'ftp://nope' } });
    expect(errors(bad)[0]?.message).toMatch(/CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS "ftp:\/\/nope" is not an http/);
  });

  it('resolves {{VAR}} as well as {{namespace.VAR}}, and rejects an undeclared variable', () => {
    const unqualified = seedText().replace('{{env.GAINSIGHT_API_KEY}}', '{{GAINSIGHT_API_KEY}}');
    expect(descriptorsOf(unqualified, { environment: SEED_ENV })[0]?.upstream.auth).toMatchObject({
      secret: { source: 'GAINSIGHT_API_KEY', value: 'px-key-unit' },
    });
    const undeclared = load(seedText().replace('{{env.GAINSIGHT_API_KEY}}', '{{env.PX_KEY}}'), { environment: SEED_ENV });
    expect(errors(undeclared)).toMatchObject([
      { path: 'capability.consumes[0].authentication.value', message: '{{env.PX_KEY}} is not declared in binds' },
    ]);
  });
});

describe('documents that are not alpha2 capabilities', () => {
  it.each([
    ['not YAML', 'naftiko: 1.0.0-alpha2\ncapability: [\n  - a: 1\n', /not valid YAML/],
    ['empty', '', /the document is empty/],
    ['a list', '- naftiko: 1.0.0-alpha2\n', /YAML root must be a mapping/],
    [
      'an ikanos: version this gateway does not read',
      'ikanos: 1.0.0\ncapability: {}\n',
      /version "1\.0\.0" of root key "ikanos:" is not supported; this gateway reads ikanos 1\.0\.0-alpha3 … 1\.0\.0-beta4 and naftiko 1\.0\.0-alpha2/,
    ],
    ['another version', 'naftiko: 1.0.0-alpha1\ncapability: {}\n', /version "1\.0\.0-alpha1" is not supported/],
    ['no version', 'capability: {}\n', /no "ikanos: 1\.0\.0-beta3" \(or "naftiko: 1\.0\.0-alpha2"\) root key/],
  ])('rejects %s with a clear message', (_, text, message) => {
    const result = load(text);
    expect(result.ok).toBe(false);
    expect(errors(result)[0]?.message).toMatch(message);
  });

  it('names the path and reason of a schema error, only for the branch the document meant', () => {
    const text = capability({
      consumes: `
- type: http
  namespace: api
  baseUri: https://api.example.com
  resources:
    - name: things
      path: /things
      operations:
        - name: list
          method: FETCH`,
      exposes: `
- type: rest
  namespace: api-rest
  resources:
    - path: /things
      operations:
        - method: GET
          call: api.list`,
    });
    const result = load(text);
    expect(errors(result).map((e) => `${e.path}: ${e.message}`)).toEqual([
      'capability.consumes[0].resources[0].operations[0].method: must be one of "GET", "POST", "PUT", "PATCH", "DELETE"',
      'capability.exposes[0]: missing required key "port"',
    ]);
  });
});

describe('what cannot be served fails fast, naming the problem', () => {
  const consumes = `
- type: http
  namespace: api
  baseUri: https://api.example.com
  resources:
    - name: things
      path: /things
      operations:
        - name: list
          method: GET
        - name: add
          method: POST`;

  it('an unknown call target: namespace or operation', () => {
    for (const [call, message] of [
      ['nope.list', /unknown call target "nope\.list": no consumes namespace "nope" \(declared: api\)/],
      ['api.remove', /unknown call target "api\.remove": "api" has no operation "remove" \(operations: list, add\)/],
    ] as const) {
      const result = load(
        capability({
          consumes,
          exposes: `- type: mcp\n  namespace: m\n  port: 9090\n  tools:\n    - name: t\n      description: d\n      call: ${call}`,
        }),
      );
      expect(errors(result)).toMatchObject([{ path: 'capability.exposes[0].tools[0].call', message: expect.stringMatching(message) }]);
    }
  });

  it('a baseUri placeholder nothing fills (a catalog {domain}): an error naming both fixes; a bind or the override fills it', () => {
    const withBaseUri = (baseUri: string, binds = '') =>
      capability({
        binds,
        consumes: consumes.replace('https://api.example.com', baseUri),
        exposes: '- type: mcp\n  namespace: m\n  port: 9090\n  tools:\n    - name: t\n      description: d\n      call: api.list',
      });
    const unfilled = load(withBaseUri('https://{domain}.example.com/v2'));
    expect(errors(unfilled)).toMatchObject([
      {
        path: 'capability.consumes[0].baseUri',
        line: expect.any(Number),
        message: expect.stringMatching(
          /placeholder \{domain\} that nothing fills.*bind it \(write \{\{domain\}\}.*or set CAPABILITY_BASE_URI_API/,
        ),
      },
    ]);
    const overridden = descriptorsOf(withBaseUri('https://{domain}.example.com/v2'), {
      environment: { CAPABILITY_BASE_URI_API: 'https://acme.example.com/v2' },
    });
    expect(overridden[0]?.upstream.baseUrl).toBe('https://acme.example.com/v2');
    const bound = descriptorsOf(
      withBaseUri('https://{{TENANT}}.example.com/v2', 'binds:\n  - namespace: tenant\n    keys:\n      TENANT: UNIT_TENANT'),
      {
        environment: { UNIT_TENANT: 'acme' },
      },
    );
    expect(bound[0]?.upstream.baseUrl).toBe('https://acme.example.com/v2');
  });

  it('duplicate tool names and duplicate REST routes', () => {
    const tools = load(
      capability({
        consumes,
        exposes: `
- type: mcp
  namespace: m
  port: 9090
  tools:
    - name: things
      description: List.
      call: api.list
    - name: things
      description: Add.
      call: api.add`,
      }),
    );
    expect(errors(tools)).toMatchObject([
      { path: 'capability.exposes[0].tools[1].name', message: 'duplicate tool name "things" (also capability.exposes[0].tools[0])' },
    ]);
    const routes = load(
      capability({
        consumes,
        exposes: `
- type: rest
  namespace: r
  port: 8080
  resources:
    - path: /v1/things/{id}
      operations:
        - method: GET
          call: api.list
    - path: /v1/things/{thingId}
      operations:
        - method: GET
          call: api.list`,
      }),
    );
    expect(errors(routes)[0]?.message).toMatch(/duplicate REST route GET \/v1\/things\/\{thingId\}/);
  });

  it('inbound authentication, steps, bind locations and non-JSON bodies, which this gateway does not run', () => {
    const result = load(
      capability({
        binds: 'binds:\n  - namespace: vault\n    location: vault://secrets/app\n    keys:\n      TOKEN: token',
        consumes,
        exposes: `
- type: rest
  namespace: r
  port: 8080
  authentication:
    type: bearer
    token: abc
  resources:
    - path: /v1/things
      operations:
        - method: GET
          name: list
          steps:
            - type: call
              name: one
              call: api.list`,
      }),
    );
    const messages = errors(result).map((e) => `${e.path}: ${e.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^binds\[0\]\.location: bind location "vault:\/\/secrets\/app" is not supported/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^capability\.exposes\[0\]\.authentication: inbound authentication .* unprotected/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(/^capability\.exposes\[0\]\.resources\[0\]\.operations\[0\]\.steps: orchestrated "steps" are not supported/),
    );
  });

  it('loadCapabilityOrThrow lists every error with file, path and reason', () => {
    expect(() => loadCapabilityOrThrow(seedText(), { file: 'seed.yaml' })).toThrow(
      /capability seed\.yaml cannot be served \(1 error\):\n {2}seed\.yaml:14:5: error: binds\[0\]\.keys\.GAINSIGHT_API_KEY: GAINSIGHT_API_KEY is not set/,
    );
  });
});

describe('reading rules', () => {
  const users = (exposes: string, extra = '') =>
    capability({
      binds: 'binds:\n  - namespace: creds\n    keys:\n      TOKEN: UNIT_TOKEN\n      USER: UNIT_USER',
      consumes: `
- type: http
  namespace: users
  baseUri: https://users.example.com/api
  authentication:
    type: bearer
    token: '{{creds.TOKEN}}'
  resources:
    - name: user
      path: /users/{userId}
      operations:
        - name: get-user
          method: GET
        - name: rename-user
          method: PUT
          inputParameters:
            - name: body
              in: body
            - name: X-Reason
              in: header
            - name: notify
              in: query
${extra}`,
      exposes,
    });
  const env = { UNIT_TOKEN: 'tok', UNIT_USER: 'ann' };

  it('fills {x} and {{x}} upstream templates from inputs of that name, case-insensitively', () => {
    const [descriptor] = descriptorsOf(
      users(`
- type: rest
  namespace: users-rest
  port: 8080
  resources:
    - path: /v1/users/{{userid}}
      operations:
        - method: GET
          name: get
          call: users.get-user`),
      { environment: env },
    );
    const op = operation(descriptor, 'get');
    expect(op.rest).toMatchObject({ method: 'GET', path: '/v1/users/{userid}', parameters: { userid: 'path' } });
    expect(request(op, { userid: 'u 1/2' })).toEqual({ method: 'GET', path: '/users/u%201%2F2' });
    expect(descriptor?.upstream.auth).toEqual({ type: 'bearer', secret: { source: 'UNIT_TOKEN', value: 'tok' } });
  });

  it('gives an MCP tool a required string argument per path parameter and a body object when it sends one', () => {
    const [descriptor] = descriptorsOf(
      users(`
- type: mcp
  namespace: users-mcp
  port: 9090
  tools:
    - name: rename-user
      label: Rename a user
      description: Renames.
      call: users.rename-user
      hints:
        idempotent: true`),
      { environment: env },
    );
    const op = operation(descriptor, 'rename-user');
    expect(op.rest).toBe(false);
    expect(op.mcp).toMatchObject({
      tool: 'rename-user',
      title: 'Rename a user',
      hints: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    });
    expect(op.input).toEqual({
      type: 'object',
      additionalProperties: false,
      properties: { body: { type: 'object' }, 'X-Reason': { type: 'string' }, notify: { type: 'string' }, userId: { type: 'string' } },
      required: ['body', 'userId'],
    });
    expect(request(op, { userId: 'u1', body: { name: 'Ann' }, 'X-Reason': 'typo', notify: 'yes' })).toEqual({
      method: 'PUT',
      path: '/users/u1',
      query: { notify: 'yes' },
      headers: { 'X-Reason': 'typo' },
      body: { name: 'Ann' },
    });
  });

  it('reads with values: rest./tools./own-namespace references, Mustache templates, bound variables and literals', () => {
    const [descriptor] = descriptorsOf(
      users(`
- type: rest
  namespace: users-rest
  port: 8080
  resources:
    - path: /v1/users/{id}/name
      operations:
        - method: PUT
          name: rename
          inputParameters:
            - name: reason
              in: query
              type: string
              description: Why.
          call: users.rename-user
          with:
            userId: users-rest.id
            body: rest.body
            X-Reason: 'by {{creds.USER}}: {{reason}}'
            notify: 3`),
      { environment: env },
    );
    const op = operation(descriptor, 'rename');
    expect(op.rest).toMatchObject({ parameters: { id: 'path', reason: 'query', body: 'body' } });
    expect(request(op, { id: 'u7', reason: 'typo', body: { name: 'Bo' } })).toEqual({
      method: 'PUT',
      path: '/users/u7',
      query: { notify: 3 },
      headers: { 'X-Reason': 'by ann: typo' },
      body: { name: 'Bo' },
    });
  });

  it('warns about a dotted value that names no namespace, and sends it as text', () => {
    const result = load(
      users(`
- type: mcp
  namespace: users-mcp
  port: 9090
  tools:
    - name: rename
      description: Renames.
      call: users.rename-user
      with:
        X-Reason: tool.reason`),
      { environment: env },
    );
    expect(warnings(result)).toMatchObject([
      { path: 'capability.exposes[0].tools[0].with.X-Reason', message: expect.stringMatching(/"tool" is not rest, tools/) },
    ]);
    const op = operation(result.ok ? result.capability.descriptors[0] : undefined, 'rename');
    expect(request(op, { userId: 'u', body: {} }).headers).toEqual({ 'X-Reason': 'tool.reason' });
  });

  it('maps outputs with JSONPath: $ and $. are the whole body, nested mappings are relative, 204 stays empty', () => {
    const [descriptor] = descriptorsOf(
      users(`
- type: rest
  namespace: users-rest
  port: 8080
  resources:
    - path: /v1/users/{userId}
      operations:
        - method: GET
          name: whole
          call: users.get-user
          outputParameters:
            - type: object
              mapping: $.
    - path: /v1/users/{userId}/summary
      operations:
        - method: GET
          name: summary
          call: users.get-user
          outputParameters:
            - type: object
              mapping: $.data
              properties:
                name:
                  type: string
                  mapping: $.name
                city:
                  type: string
                  mapping: $.address.city
                tags:
                  type: array
                  mapping: $.tags
                  items:
                    type: string
                    mapping: $.label
                emails:
                  type: array
                  mapping: $.emails[*].address
                missing:
                  type: string
                  mapping: $.nope`),
      { environment: env },
    );
    const body = {
      data: {
        name: 'Ann',
        address: { city: 'Oslo' },
        tags: [{ label: 'a' }, { label: 'b' }],
        emails: [{ address: 'x@y' }, { address: 'z@y' }],
      },
    };
    const response = (value: unknown) => ({ status: 200, headers: {}, body: value });
    expect(operation(descriptor, 'whole').upstream.fromResponse?.(response(body))).toEqual(body);
    expect(operation(descriptor, 'summary').upstream.fromResponse?.(response(body))).toEqual({
      name: 'Ann',
      city: 'Oslo',
      tags: ['a', 'b'],
      emails: ['x@y', 'z@y'],
      missing: null,
    });
    expect(operation(descriptor, 'summary').output).toMatchObject({
      type: ['object', 'null'],
      properties: { tags: { type: ['array', 'null'] } },
    });
    expect(operation(descriptor, 'summary').upstream.fromResponse?.({ status: 204, headers: {}, body: undefined })).toBeUndefined();
  });

  it('maps apikey (header or query) and basic auth to the gateway credentials, never into the file', () => {
    const withAuth = (auth: string) =>
      descriptorsOf(
        capability({
          binds: 'binds:\n  - namespace: creds\n    keys:\n      KEY: UNIT_KEY\n      USER: UNIT_USER',
          consumes: `
- type: http
  namespace: api
  baseUri: https://api.example.com
  authentication:
${indent(auth, 4)}
  resources:
    - name: things
      path: /things
      operations:
        - name: list
          method: GET`,
          exposes:
            '- type: rest\n  namespace: r\n  port: 8080\n  resources:\n    - path: /v1/things\n      operations:\n        - method: GET\n          call: api.list',
        }),
        { environment: { UNIT_KEY: 'k1', UNIT_USER: 'ann' } },
      )[0]?.upstream.auth;
    expect(withAuth('type: apikey\nkey: api_key\nvalue: "{{KEY}}"\nplacement: query')).toEqual({
      type: 'apikey',
      in: 'query',
      name: 'api_key',
      secret: { source: 'UNIT_KEY', value: 'k1' },
    });
    expect(withAuth('type: apikey\nkey: X-Key\nvalue: "{{creds.KEY}}"')).toMatchObject({ in: 'header', name: 'X-Key' });
    expect(withAuth('type: basic\nusername: "{{USER}}"\npassword: "{{creds.KEY}}"')).toEqual({
      type: 'basic',
      username: { source: 'UNIT_USER', value: 'ann' },
      secret: { source: 'UNIT_KEY', value: 'k1' },
    });
  });

  it('reports every problem of an apikey block at once, suggesting key and placement for what was written instead', () => {
    const withAuth = (auth: string) =>
      load(
        capability({
          binds: 'binds:\n  - namespace: creds\n    keys:\n      KEY: UNIT_KEY',
          consumes: `
- type: http
  namespace: api
  baseUri: https://api.example.com
  authentication:
${indent(auth, 4)}
  resources:
    - name: things
      path: /things
      operations:
        - name: list
          method: GET`,
          exposes:
            '- type: rest\n  namespace: r\n  port: 8080\n  resources:\n    - path: /v1/things\n      operations:\n        - method: GET\n          call: api.list',
        }),
        { environment: { UNIT_KEY: 'k1' } },
      );
    const auth = 'capability.consumes[0].authentication';
    const openApiStyle = errors(withAuth('type: apikey\nname: X-Api-Key\nin: query\nvalue: "{{KEY}}"'));
    expect(openApiStyle.map((d) => [d.path, d.message])).toEqual(
      expect.arrayContaining([
        [`${auth}.key`, expect.stringMatching(/needs "key".*placement: header or query/)],
        [`${auth}.name`, expect.stringMatching(/unknown key "name".*; write key: X-Api-Key \(the header or query parameter name\)/)],
        [`${auth}.in`, expect.stringMatching(/unknown key "in".*; write placement: query/)],
      ]),
    );
    const badPlacement = errors(withAuth('type: apikey\nplacement: cookie'));
    expect(badPlacement.map((d) => d.path)).toEqual(expect.arrayContaining([`${auth}.placement`, `${auth}.key`, `${auth}.value`]));
    const bare = errors(withAuth('type: apikey'));
    expect(bare.map((d) => d.path)).toEqual([`${auth}.key`, `${auth}.value`]);
  });

  it('merges a REST operation and an MCP tool that make the same call with the same inputs, and keeps different ones apart', () => {
    const [descriptor] = descriptorsOf(
      users(`
- type: rest
  namespace: users-rest
  port: 8080
  resources:
    - path: /v1/users/{userId}
      operations:
        - method: GET
          name: get-user
          call: users.get-user
- type: mcp
  namespace: users-mcp
  port: 9090
  tools:
    - name: same-user
      description: Same inputs.
      call: users.get-user
    - name: renamed
      description: Different wiring.
      call: users.rename-user`),
      { environment: env },
    );
    expect(descriptor?.operations.map((o) => [o.id, o.rest && `${o.rest.method} ${o.rest.path}`, o.mcp ? o.mcp.tool : false])).toEqual([
      ['get-user', 'GET /v1/users/{userId}', 'same-user'],
      ['renamed', false, 'renamed'],
    ]);
  });
});
