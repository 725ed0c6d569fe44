import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CapabilityGateway, connectMcp, fixture, json, startCapabilityGateway } from './fixtures/capability-gateway.ts';
import { type CaptureServer, startCaptureServer } from './support/capture-server.ts';
import { liveEnvironment, postJson, startTestGateway, TEST_PX_KEY, type TestGateway } from './support/test-gateway.ts';

const EVENT = { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' };
/** The shortest piece of a secret that must never leave: a cut key leaks its first characters. */
const PREFIX_LENGTH = 6;

/** No piece of `secret` (PREFIX_LENGTH characters or more, from its start) in `text`. */
function expectNoPieceOf(secret: string, text: string): void {
  expect(text).not.toContain(secret.slice(0, PREFIX_LENGTH));
}

/** An upstream that echoes the gateway's own credentials or bound values in what it answers, even on success. */
describe('upstream answers that echo a secret', () => {
  describe('Gainsight PX plugin (the PX key)', () => {
    let upstream: CaptureServer;
    let gateway: TestGateway;
    let mcp: Client;

    beforeAll(async () => {
      upstream = await startCaptureServer();
      gateway = await startTestGateway(liveEnvironment(upstream.url, { UPSTREAM_RETRIES: '0' }));
      mcp = await connectMcp(gateway.mcpUrl);
    });
    afterEach(() => {
      upstream.requests.length = 0;
    });
    afterAll(async () => {
      await mcp?.close();
      await gateway?.close();
      await upstream?.close();
    });

    const sendRest = async () => {
      const response = await postJson(`${gateway.restUrl}/v1/custom-events`, EVENT);
      return { status: response.status, text: await response.text() };
    };
    const sendTool = async () => JSON.stringify(await mcp.callTool({ name: 'gainsight-send-custom-event', arguments: { body: EVENT } }));

    it('a 201 body that echoes the key reaches neither REST nor MCP callers', async () => {
      const echo = { status: 201, body: JSON.stringify({ id: 'evt-1', note: `accepted with key ${TEST_PX_KEY}` }) };
      upstream.reply(echo, echo);
      const rest = await sendRest();
      expect(rest.status).toBe(201);
      expect(JSON.parse(rest.text)).toEqual({ id: 'evt-1', note: 'accepted with key [redacted]' });
      const tool = await sendTool();
      expectNoPieceOf(TEST_PX_KEY, tool);
      expect(tool).toContain('accepted with key [redacted]');
      // The upstream did receive the key: it is redacted on the way back.
      expect(upstream.requests.map((r) => r.headers['x-aptrinsic-api-key'])).toEqual([TEST_PX_KEY, TEST_PX_KEY]);
    });

    it.each([
      { shape: 'a text message', body: `${'x'.repeat(290)}${TEST_PX_KEY} is not allowed here`, type: 'text/plain' },
      {
        shape: 'JSON without a message field',
        body: JSON.stringify({ code: `${'x'.repeat(280)}${TEST_PX_KEY}` }),
        type: 'application/json',
      },
    ])('an error message cut at 300 characters with the key across the cut keeps no piece of it ($shape)', async ({ body, type }) => {
      const reply = { status: 400, body, headers: { 'content-type': type } };
      upstream.reply(reply, reply);
      const rest = await sendRest();
      expect(rest.status).toBe(400);
      expectNoPieceOf(TEST_PX_KEY, rest.text);
      expect(JSON.parse(rest.text).detail).toContain('[redacted]');
      const tool = await sendTool();
      expectNoPieceOf(TEST_PX_KEY, tool);
      expect(tool).toContain('[redacted]');
    });
  });

  describe('Naftiko capabilities (a bearer token, a bound secret)', () => {
    const DIRECTORY_TOKEN = 'directory-token-0c3f-never-echoed';
    const DESK_PASSWORD = 'desk-password-1d2e-never-echoed';
    const DESK_SIGNATURE = 'desk-signature-6a7b-never-echoed';
    const SECRETS = [DIRECTORY_TOKEN, DESK_PASSWORD, DESK_SIGNATURE];
    let directory: CaptureServer;
    let desk: CaptureServer;
    let status: CaptureServer;
    let gateway: CapabilityGateway;
    let mcp: Client;
    const printed: string[] = [];

    beforeAll(async () => {
      [directory, desk, status] = await Promise.all([startCaptureServer(), startCaptureServer(), startCaptureServer()]);
      gateway = await startCapabilityGateway([fixture('user-directory.yaml'), fixture('ticket-desk.yaml')], {
        TEST_DIRECTORY_TOKEN: DIRECTORY_TOKEN,
        TEST_DESK_USER: 'desk-bot',
        TEST_DESK_PASSWORD: DESK_PASSWORD,
        TEST_STATUS_KEY: 'status-key-not-under-test',
        TEST_DESK_SIGNATURE: DESK_SIGNATURE,
        CAPABILITY_BASE_URI_DIRECTORY: `${directory.url}/api`,
        CAPABILITY_BASE_URI_DESK: `${desk.url}/api/v2`,
        CAPABILITY_BASE_URI_STATUS_PAGE: status.url,
        UPSTREAM_RETRIES: '0',
      });
      mcp = await connectMcp(gateway.mcpUrl);
    });
    afterAll(async () => {
      await mcp?.close();
      await gateway?.close();
      await Promise.all([directory, desk, status].map((server) => server?.close()));
      const all = [...(gateway?.logs ?? []), ...printed].join('\n');
      for (const secret of SECRETS) expect(all).not.toContain(secret);
    });

    const rest = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${gateway.restUrl}${path}`, {
        method,
        ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      printed.push(text);
      return { status: response.status, text };
    };
    const tool = async (name: string, args: Record<string, unknown>) => {
      const text = JSON.stringify(await mcp.callTool({ name, arguments: args }));
      printed.push(text);
      return text;
    };

    it('a 200 body that echoes the bearer token, mapped into the output, is redacted on REST and MCP', async () => {
      const echo = { status: 200, body: JSON.stringify({ data: { id: 'u-42', profile: { displayName: `Bearer ${DIRECTORY_TOKEN}` } } }) };
      directory.reply(echo, echo);
      const answer = await rest('GET', '/v1/users/u-42');
      expect(answer.status).toBe(200);
      expect(json(answer.text)).toMatchObject({ id: 'u-42', name: 'Bearer [redacted]' });
      const result = await tool('directory-get-user', { userId: 'u-42' });
      expectNoPieceOf(DIRECTORY_TOKEN, result);
      expect(result).toContain('Bearer [redacted]');
      expect(directory.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${DIRECTORY_TOKEN}`, `Bearer ${DIRECTORY_TOKEN}`]);
    });

    it('a 200 passthrough body and a 201 mapped body that echo a bound secret are redacted on REST and MCP', async () => {
      desk.reply({ status: 200, body: JSON.stringify({ ticket: { id: 7, status: 'closed' }, signature: DESK_SIGNATURE }) });
      const closed = await rest('POST', '/v1/tickets/7/close');
      expect(closed.status).toBe(200);
      expect(json(closed.text)).toEqual({ ticket: { id: 7, status: 'closed' }, signature: '[redacted]' });

      const opened = { status: 201, body: JSON.stringify({ ticket: { id: 8, status: `open, signed ${DESK_SIGNATURE}` } }) };
      desk.reply(opened, opened);
      const answer = await rest('POST', '/v1/tickets', { subject: 'Echo', email: 'ann@example.com' });
      expect(answer.status).toBe(201);
      expect(json(answer.text)).toEqual({ id: 8, state: 'open, signed [redacted]' });
      const result = await tool('desk-open-ticket', { subject: 'Echo', email: 'bo@example.com' });
      expectNoPieceOf(DESK_SIGNATURE, result);
      expect(result).toContain('[redacted]');
    });
  });
});
