// Reference (g): the MCP SDK's ceiling, on the SDK's current major (v2). Express with express.json() and the
// SDK's Host check, and the SDK's documented stateless serving: createMcpHandler (a fresh low-level Server per
// request, both protocol generations) mounted with toNodeHandler; one tool forwarding to the upstream like (b)
// and (c). SHARED_VALIDATOR=true: one JSON Schema validator for every per-request Server (the SDK only uses it
// for elicitation), as the gateway does.
import { localhostHostValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, Server } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import express from 'express';
import { listen } from './express-server.mjs';
import { forward } from './forward.mjs';

const upstream = process.env.UPSTREAM_URL;
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
  server.setRequestHandler('tools/list', () => ({ tools: [tool] }));
  server.setRequestHandler('tools/call', async (request) => {
    const status = await forward(upstream, request.params.arguments?.body);
    const structuredContent = { status };
    const ok = status >= 200 && status < 300;
    return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent, ...(ok ? {} : { isError: true }) };
  });
  return server;
}

const serve = toNodeHandler(createMcpHandler(newServer));
const validateHost = localhostHostValidation();
const app = express();
app.use((request, response, next) => (validateHost(request, response) ? next() : undefined));
app.use(express.json());
app.post('/mcp', (request, response) => void serve(request, response, request.body));
const server = listen(app, () => process.send?.({ url: `http://127.0.0.1:${server.address().port}/mcp` }));
process.on('SIGTERM', () => process.exit(0));
