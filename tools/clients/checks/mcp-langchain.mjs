// @langchain/mcp-adapters: tools load (and are simplified by the adapter), every kind of attribute value passes its own
// validation and reaches the gateway, and the gateway's error for an invalid call reaches the caller.
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import {
  ATTRIBUTE_CASES,
  check,
  DATE_IN_SECONDS,
  done,
  EVERY_FIELD,
  GATEWAY_WORDS,
  MINIMAL,
  mcpUrl,
  sandboxCount,
  TOOL,
} from './support.mjs';

const client = new MultiServerMCPClient({
  mcpServers: { gateway: { transport: 'http', url: mcpUrl } },
  prefixToolNameWithServerName: false,
});
const tools = await client.getTools();
const tool = tools.find((t) => t.name === TOOL);
check(tool !== undefined, `LangChain loads ${TOOL}`);
const cases = [
  ['minimal', MINIMAL],
  ['every field', EVERY_FIELD],
  ['date as ISO string', { ...MINIMAL, date: new Date(Date.now() - 60_000).toISOString() }],
  ...ATTRIBUTE_CASES.map((attributes) => [`attributes ${JSON.stringify(attributes)}`, { ...MINIMAL, attributes }]),
  ['globalContext string', { ...MINIMAL, globalContext: { appVersion: '2.3.1' } }],
];
for (const [what, body] of cases) {
  const before = await sandboxCount();
  try {
    await tool.invoke({ body });
    check((await sandboxCount()) === before + 1, `LangChain: ${what} recorded`);
  } catch (error) {
    check(false, `LangChain: ${what}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 400));
  }
}
try {
  const answer = await tool.invoke({ body: DATE_IN_SECONDS });
  check(
    JSON.stringify(answer).includes(GATEWAY_WORDS),
    `LangChain: the gateway refusal reaches the caller (${JSON.stringify(answer).slice(0, 200)})`,
  );
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  check(message.includes(GATEWAY_WORDS), `LangChain: the gateway refusal reaches the caller (${message.slice(0, 200)})`);
}
await client.close();
done('langchain');
