// mcp-remote (the stdio bridge many desktop agents use) in front of the gateway, driven by an SDK stdio client.
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { check, done, MINIMAL, mcpUrl, TOOL } from './support.mjs';

const bridge = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [bridge, mcpUrl, '--transport', 'http-only'],
  stderr: 'pipe',
});
let bridgeLog = '';
transport.stderr?.on('data', (chunk) => (bridgeLog += chunk));
const client = new Client({ name: 'client-matrix', version: '1.0.0' });
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  check(
    tools.some((t) => t.name === TOOL),
    `mcp-remote lists ${TOOL}`,
  );
  const result = await client.callTool({ name: TOOL, arguments: { body: MINIMAL } });
  check(!result.isError && result.structuredContent?.status === 201, 'mcp-remote: the call answers 201');
  const unknown = await client.callTool({ name: 'no-such-tool', arguments: {} }).catch((error) => error);
  check(
    /Unknown tool/.test(unknown?.message ?? '') && (unknown.message.match(/MCP error/g) ?? []).length <= 1,
    `mcp-remote: unknown tool said once (${unknown?.message?.slice(0, 120)})`,
  );
} catch (error) {
  check(false, `mcp-remote: ${error instanceof Error ? error.message : String(error)}\n${bridgeLog.slice(-2000)}`);
} finally {
  await client.close().catch(() => undefined);
}
done('mcp-remote');
