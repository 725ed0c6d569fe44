import type { OpenApiBuilder, SchemaObject } from 'openapi3-ts/oas31';
import { GATEWAY_PATH } from './paths.ts';
import { PROBLEM_SCHEMA, ref } from './problem-schema.ts';
import { commonHeaders } from './responses.ts';

export const GATEWAY_TAG = 'Gateway';

const gatewaySchema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'mode', 'plugins', 'ready', 'pausedPlugins', 'inboundKeys', 'deliveries'],
  properties: {
    version: { type: 'string', description: 'The gateway version.', examples: ['0.1.0'] },
    mode: {
      type: 'string',
      enum: ['live', 'sandbox'],
      description: '`sandbox` when any plugin calls its local sandbox instead of the real upstream.',
    },
    plugins: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'mode', 'operations'],
        properties: {
          id: { type: 'string', examples: ['gainsight-px'] },
          title: { type: 'string', examples: ['Gainsight PX'] },
          mode: { type: 'string', enum: ['live', 'sandbox'] },
          builtIn: { type: 'boolean', description: 'The gateway’s own operations (its delivery routes), not an upstream plugin.' },
          operations: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'title', 'method', 'path', 'docs'],
              properties: {
                id: { type: 'string', examples: ['sendCustomEvent'] },
                title: { type: 'string' },
                method: { type: 'string', examples: ['POST'] },
                path: { type: 'string', description: 'The REST path, OpenAPI style.', examples: ['/v1/custom-events'] },
                tool: { type: 'string', description: 'The MCP tool, when the operation has one.' },
                docs: { type: 'string', description: 'The operation in Swagger UI.', examples: ['/docs/#/Gainsight%20PX/sendCustomEvent'] },
              },
            },
          },
        },
      },
    },
    mcp: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: { url: { type: 'string', format: 'uri', description: 'The MCP endpoint (Streamable HTTP).' } },
    },
    ready: { type: 'boolean', description: 'What `/readyz` says: this instance takes traffic.' },
    readiness: { type: 'string', description: '`ready`, or why not (e.g. `draining`).' },
    pausedPlugins: {
      type: 'array',
      items: { type: 'string' },
      description: 'Plugins whose deliveries are paused: their upstream refuses the gateway key.',
    },
    inboundKeys: { type: 'boolean', description: 'Whether calls other than this one need a gateway API key.' },
    deliveries: { type: 'boolean', description: 'Whether this gateway runs a delivery queue (some loaded operation can be queued).' },
  },
};

/** `GET /v1/gateway`: what runs here, for the console and for programs; no key needed, no secret in it. */
export function addGatewayPath(builder: OpenApiBuilder): void {
  builder.addTag({ name: GATEWAY_TAG, description: 'What this gateway runs.' });
  builder.addSchema('GatewayInfo', gatewaySchema);
  builder.addPath(GATEWAY_PATH, {
    get: {
      operationId: 'getGateway',
      summary: 'What runs here',
      description:
        'Version, live or sandbox, the plugins and their operations (with their place in these docs), the MCP URL, ' +
        'readiness and paused deliveries, and whether calls need an API key. Answers without a key: it holds no client’s data.',
      tags: [GATEWAY_TAG],
      security: [],
      responses: {
        '200': {
          description: 'What runs here.',
          headers: commonHeaders(),
          content: { 'application/json': { schema: ref('schemas', 'GatewayInfo') } },
        },
        '429': {
          description: 'Too many requests: over this client’s `INBOUND_RATE_LIMIT`. Wait `Retry-After` seconds.',
          headers: commonHeaders(),
          content: { 'application/problem+json': { schema: ref('schemas', PROBLEM_SCHEMA) } },
        },
      },
    },
  });
}
