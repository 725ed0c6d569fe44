// Reference (g): the MCP SDK's ceiling. The SDK's own Express app (createMcpExpressApp: Host check +
// express.json()), stateless Streamable HTTP with JSON answers (a fresh low-level Server and transport per
// POST, as the SDK documents stateless mode), one tool forwarding to the upstream like (b) and (c).
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { listen } from './express-server.mjs';
import { forward } from './forward.mjs';

const upstream = process.env.UPSTREAM_URL;
// SHARED_VALIDATOR=true: one JSON Schema validator for every per-request Server instead of a new Ajv each
// (the SDK only uses it for elicitation); the same SDK option the gateway could use.
const jsonSchemaValidator = process.env.SHARED_VALIDATOR === 'true' ? new AjvJsonSchemaValidator() : undefined;
const tool = {
  name: 'gainsight-send-custom-event',
  description: 'Send one custom event.',
  inputSchema: { type: 'object', properties: { body: { type: 'object' } }, required: ['body'] },
};

function newServer() {
  const server = new Server(
    { name: 'sdk-minimal', version: '0.0.0' },
    { capabilities: { tools: {} }, ...(jsonSchemaValidator ? { jsonSchemaValidator } : {}) },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [tool] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const status = await forward(upstream, request.params.arguments?.body);
    const structuredContent = { status };
    const ok = status >= 200 && status < 300;
    return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent, ...(ok ? {} : { isError: true }) };
  });
  return server;
}

const app = createMcpExpressApp();
app.post('/mcp', async (request, response) => {
  const server = newServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, request.body);
});
const server = listen(app, () => process.send?.({ url: `http://127.0.0.1:${server.address().port}/mcp` }));
process.on('SIGTERM', () => process.exit(0));
