// The AI SDK MCP client (@ai-sdk/mcp) over Streamable HTTP: tools load, calls reach the sandbox, gateway errors come back.
import { createMCPClient } from '@ai-sdk/mcp';
import { ATTRIBUTE_CASES, check, DATE_IN_SECONDS, done, EVERY_FIELD, GATEWAY_WORDS, MINIMAL, mcpUrl, TOOL } from './support.mjs';

const client = await createMCPClient({ transport: { type: 'http', url: mcpUrl } });
const tools = await client.tools();
check(TOOL in tools, `tools include ${TOOL}`);
const run = (body) => tools[TOOL].execute({ body }, { toolCallId: 'call-1', messages: [] });
for (const body of [MINIMAL, EVERY_FIELD, ...ATTRIBUTE_CASES.map((attributes) => ({ ...MINIMAL, attributes }))]) {
  const result = await run(body);
  check(!result.isError && result.structuredContent?.status === 201, `AI SDK: ${JSON.stringify(body).slice(0, 80)} -> 201`);
}
const refused = await run(DATE_IN_SECONDS);
check(
  refused.isError === true && JSON.stringify(refused.content).includes(GATEWAY_WORDS),
  'AI SDK: the gateway refusal of a date in seconds reaches the caller',
);
await client.close();
done('ai-sdk');
