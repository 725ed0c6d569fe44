import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, ProtocolError, ProtocolErrorCode, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilityStartup } from '../src/capabilities/index.ts';
import { fixture } from './fixtures/capability-gateway.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const LIST_BUDGET_BYTES = 24 * 1024;
const DESCRIPTION_BUDGET_CHARS = 900;

/** One raw request, as a client of either generation sends it; the answer's JSON-RPC message. */
async function rpc(url: string, method: string, era: 'modern' | 'legacy', params: Record<string, unknown> = {}) {
  const modern = era === 'modern';
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': modern ? '2026-07-28' : '2025-11-25',
      ...(modern ? { 'mcp-method': method } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: modern
        ? {
            ...params,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          }
        : params,
    }),
  });
  const text = await response.text();
  return { status: response.status, text, message: JSON.parse(text) as { result?: Record<string, unknown>; error?: { message: string } } };
}

const toolNames = (result: Record<string, unknown> | undefined) => ((result?.tools ?? []) as { name: string }[]).map((t) => t.name);

describe('MCP tools/list size, default configuration', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway();
  });
  afterAll(async () => {
    await gateway.close();
  });

  it.each(['modern', 'legacy'] as const)('%s: every tool is listed, in at most 24 KB, no description over 900 characters', async (era) => {
    const { text, message } = await rpc(gateway.mcpUrl, 'tools/list', era);
    const tools = (message.result?.tools ?? []) as { name: string; description: string; inputSchema: object }[];
    expect(tools.length).toBeGreaterThanOrEqual(12);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LIST_BUDGET_BYTES);
    for (const tool of tools) expect(tool.description.length, tool.name).toBeLessThanOrEqual(DESCRIPTION_BUDGET_CHARS);
  });

  it('keeps the field rules in the input schema, and says the rest once in the instructions', async () => {
    const client = new Client({ name: 'toolsets-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      const send = (await client.listTools()).tools.find((t) => t.name === 'gainsight-send-custom-event');
      const body = send?.inputSchema.properties?.body as { properties: Record<string, { description?: string }> };
      expect(body.properties.date?.description).toContain('not seconds');
      expect(body.properties.attributes?.description).toContain('up to 50 keys');
      const instructions = client.getInstructions() ?? '';
      expect(instructions).toContain('isError');
      expect(instructions).toContain('idempotencyKey');
    } finally {
      await client.close();
    }
  });
});

describe('MCP_TOOLS', () => {
  let gateway: TestGateway;
  let everything: TestGateway;
  beforeAll(async () => {
    gateway = await startTestGateway({ MCP_TOOLS: 'gainsight-send-*, gateway-get-delivery' });
    everything = await startTestGateway();
  });
  afterAll(async () => {
    await gateway.close();
    await everything.close();
  });

  it('exposes only the tools named or matched, in both generations', async () => {
    for (const era of ['modern', 'legacy'] as const) {
      const { message } = await rpc(gateway.mcpUrl, 'tools/list', era);
      expect(toolNames(message.result)).toEqual(['gainsight-send-custom-event', 'gainsight-send-custom-events', 'gateway-get-delivery']);
    }
  });

  it('answers a call to a tool left out as an unknown tool, and names the tools there are', async () => {
    const client = new Client({ name: 'toolsets-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      const failure = await client.callTool({ name: 'gainsight-get-user', arguments: { identifyId: 'u-1' } }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ProtocolError);
      expect((failure as ProtocolError).code).toBe(ProtocolErrorCode.InvalidParams);
      expect((failure as ProtocolError).message).toContain(
        'gainsight-send-custom-event, gainsight-send-custom-events, gateway-get-delivery',
      );
      expect(client.getInstructions()).not.toContain('gainsight-get-user');
    } finally {
      await client.close();
    }
  });

  it('gives another server version than the full list (a cached list is not reused across configurations)', async () => {
    const version = async (url: string) => {
      const client = new Client({ name: 'toolsets-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      const info = client.getServerVersion();
      await client.close();
      return info?.version;
    };
    const [selected, all, allAgain] = [await version(gateway.mcpUrl), await version(everything.mcpUrl), await version(everything.mcpUrl)];
    expect(selected).not.toBe(all);
    expect(all).toBe(allAgain);
  });

  it('refuses to start on a pattern that matches no tool, naming the tools', async () => {
    await expect(startTestGateway({ MCP_TOOLS: 'gainsight-send-*,gainsight-sned-custom-event' })).rejects.toThrow(
      /MCP_TOOLS: "gainsight-sned-custom-event" matches no tool of this gateway; its tools are gainsight-send-custom-event, /,
    );
  });

  it('refuses to start on an entry that is not a name or glob', async () => {
    await expect(startTestGateway({ MCP_TOOLS: 'gainsight send' })).rejects.toThrow(
      /MCP_TOOLS is a comma-separated list .*"gainsight send"/,
    );
  });
});

describe('MCP tools/list cache hints (2026-07-28)', () => {
  it('marks the default list public, with a TTL; 2025-era answers carry no hint', async () => {
    const gateway = await startTestGateway();
    try {
      const modern = await rpc(gateway.mcpUrl, 'tools/list', 'modern');
      expect(modern.message.result).toMatchObject({ cacheScope: 'public', ttlMs: 300_000 });
      const legacy = await rpc(gateway.mcpUrl, 'tools/list', 'legacy');
      expect(legacy.message.result).not.toHaveProperty('ttlMs');
      expect(legacy.message.result).not.toHaveProperty('cacheScope');
    } finally {
      await gateway.close();
    }
  });

  it("applies an Ikanos beta4 MCP exposure's ttlMs and cacheScope, without a warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikanos-beta4-'));
    try {
      cpSync(fixture('ikanos'), dir, { recursive: true });
      const file = join(dir, 'user-directory.yaml');
      const beta3 = readFileSync(file, 'utf8');
      const beta4 = beta3
        .replace('ikanos: 1.0.0-beta3', 'ikanos: 1.0.0-beta4')
        .replace('      transport: http\n', '      transport: http\n      ttlMs: 60000\n      cacheScope: private\n');
      expect(beta4).toContain('cacheScope: private');
      writeFileSync(file, beta4);
      const startup = capabilityStartup([file], {
        PORT: '0',
        MCP_PORT: '0',
        HOST: '127.0.0.1',
        TEST_DIRECTORY_TOKEN: 'directory-token-for-tests',
        CAPABILITY_BASE_URI_DIRECTORY: 'http://127.0.0.1:9/api',
      });
      expect(startup.warnings.map((w) => w.message).join('\n')).not.toMatch(/ttlMs|cacheScope/);
      const gateway = await startTestGateway(startup.environment, startup.plugins);
      try {
        const { message } = await rpc(gateway.mcpUrl, 'tools/list', 'modern');
        expect(message.result).toMatchObject({ ttlMs: 60_000, cacheScope: 'private' });
        expect(toolNames(message.result)).toContain('directory-get-user');
      } finally {
        await gateway.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
