import type { OpenApiBuilder } from 'openapi3-ts/oas31';
import { commonHeaders } from './responses.ts';

/**
 * A sandbox read route as served in sandbox mode (`GET /sandbox/...`): the sandbox answers it itself, with the
 * upstream's own JSON shapes, so the bodies are described as the upstream's, not as the gateway's Problem.
 */
export function addSandboxReadPath(builder: OpenApiBuilder, path: string, upstreamTitle: string, tag: string): void {
  const json = (description: string) => ({ 'application/json': { schema: { type: 'object', description } } });
  builder.addPath(path, {
    get: {
      operationId: `sandboxRead${path.replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
      summary: `What the ${upstreamTitle} sandbox received`,
      description:
        `Sandbox mode only: what the local ${upstreamTitle} sandbox received, as the upstream's own read API answers it ` +
        '(its query parameters apply). Nothing here reaches the real service.',
      tags: [tag],
      responses: {
        '200': {
          description: `The records, in ${upstreamTitle}'s answer shape.`,
          headers: commonHeaders(),
          content: json(`${upstreamTitle}'s answer.`),
        },
        '400': {
          description: `The sandbox refused the query, with ${upstreamTitle}'s error body.`,
          headers: commonHeaders(),
          content: json(`${upstreamTitle}'s error body.`),
        },
      },
    },
  });
}
