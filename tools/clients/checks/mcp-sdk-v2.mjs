// The MCP TypeScript SDK v2 client (the package agents embed), pinned to 2026-07-28 and on `auto` (it probes
// server/discover and takes the newest generation the server offers), against the gateway's MCP endpoint.
import { Client, ProtocolError, ProtocolErrorCode, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { check, done, MINIMAL, mcpUrl, TOOL } from './support.mjs';

for (const [label, mode] of [
  ['pinned to 2026-07-28', { pin: '2026-07-28' }],
  ['auto', 'auto'],
]) {
  const client = new Client({ name: 'client-matrix', version: '1.0.0' }, { versionNegotiation: { mode } });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
    check(client.getNegotiatedProtocolVersion() === '2026-07-28', `sdk v2 (${label}): speaks ${client.getNegotiatedProtocolVersion()}`);
    const { tools } = await client.listTools();
    check(
      tools.some((t) => t.name === TOOL),
      `sdk v2 (${label}): lists ${TOOL}`,
    );
    const result = await client.callTool({ name: TOOL, arguments: { body: MINIMAL } });
    check(!result.isError && result.structuredContent?.status === 201, `sdk v2 (${label}): the call answers 201`);
    const invalid = await client.callTool({ name: TOOL, arguments: { body: { ...MINIMAL, eventName: '' } } });
    check(
      invalid.isError === true && /body\.eventName/.test(invalid.content?.[0]?.text ?? ''),
      `sdk v2 (${label}): isError names body.eventName`,
    );
    const unknown = await client.callTool({ name: 'no-such-tool', arguments: {} }).catch((error) => error);
    check(
      unknown instanceof ProtocolError && unknown.code === ProtocolErrorCode.InvalidParams,
      `sdk v2 (${label}): unknown tool is a protocol error (${unknown?.message?.slice(0, 120)})`,
    );
  } catch (error) {
    check(false, `sdk v2 (${label}): ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.close().catch(() => undefined);
  }
}
done('mcp-sdk-v2');
