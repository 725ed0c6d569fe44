import type { RunningGateway } from './gateway.ts';
import { DOCS_PATH, OPENAPI_JSON_PATH, OPENAPI_YAML_PATH } from './openapi/paths.ts';
import type { LoadedPlugin } from './plugins/plugin-registry.ts';

function credentialVariable(plugin: LoadedPlugin): string {
  const auth = plugin.descriptor.upstream.auth;
  return auth ? auth.secret.source : 'its credential';
}

/** What a person sees in the terminal at start-up: where things are, and loudly, where events go. */
export function startupBanner(gateway: RunningGateway): string {
  const lines = [
    `Gateway REST API: ${gateway.restUrl}`,
    `MCP endpoint (Streamable HTTP, ${gateway.config.mcpSessions ? 'sessions' : 'stateless'}): ${gateway.mcpUrl}`,
    `Console (deliveries, dead letters, retry): ${gateway.restUrl}/`,
    `API docs (Swagger UI, trial calls): ${gateway.restUrl}${DOCS_PATH}/`,
    `OpenAPI 3.1 document: ${gateway.restUrl}${OPENAPI_JSON_PATH} (YAML: ${gateway.restUrl}${OPENAPI_YAML_PATH})`,
  ];
  for (const plugin of gateway.plugins) {
    const routes = plugin.descriptor.operations.flatMap((op) => {
      if (!op.rest) return [];
      const batch = op.delivery?.batch?.rest;
      return [
        `  ${op.rest.method} ${gateway.restUrl}${op.rest.path}${op.delivery ? ' (Prefer: respond-async queues it)' : ''}`,
        ...(batch ? [`  POST ${gateway.restUrl}${batch.path} (queued)`] : []),
      ];
    });
    lines.push(`Plugin ${plugin.descriptor.id} (${plugin.mode}):`, ...routes);
    if (plugin.mode === 'sandbox') {
      const reads = plugin.sandbox?.readRoutes.map((route) => `${gateway.restUrl}/sandbox${route}`) ?? [];
      lines.push(
        '',
        '  ************************************************************************',
        `  SANDBOX MODE: ${plugin.descriptor.title} calls go to a local sandbox, not to the real service.`,
        `  Nothing reaches ${plugin.descriptor.title}. Set ${credentialVariable(plugin)} to go live.`,
        `  Try a call in the browser: ${gateway.restUrl}${DOCS_PATH}/ (an operation, Try it out, Execute)`,
        ...reads.map((url) => `  See what the sandbox received: GET ${url}`),
        ...(plugin.sandbox?.notice ? [`  The sandbox has ${plugin.sandbox.notice} (SANDBOX_* variables).`] : []),
        '  ************************************************************************',
        '',
      );
    } else {
      lines.push(`  Live: calls go to ${plugin.baseUrl}`);
    }
  }
  if (gateway.plugins.some((plugin) => plugin.descriptor.operations.some((op) => op.delivery))) {
    const queue = gateway.config.redisUrl ? 'Redis (REDIS_URL)' : `SQLite in ${gateway.config.delivery.dataDir}`;
    lines.push(`Queued deliveries: GET ${gateway.restUrl}/v1/deliveries/{id} (queue: ${queue})`);
  }
  return `${lines.join('\n')}\n`;
}
