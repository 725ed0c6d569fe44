import type { IRouter } from 'express';
import type { PluginRegistry } from '../plugins/plugin-registry.ts';

/** In sandbox mode, `GET /sandbox/<route>` shows what the sandbox received, with the sandbox's own key injected. */
export function mountSandboxReads(router: IRouter, registry: PluginRegistry, methodsByPath: Map<string, Set<string>>): void {
  for (const plugin of registry.plugins) {
    const { sandbox } = plugin;
    if (!sandbox) continue;
    const credentials = plugin.credentials;
    for (const route of sandbox.readRoutes) {
      const path = `/sandbox${route}`;
      router.get(path, (request, response) => {
        const queryStart = request.originalUrl.indexOf('?');
        request.url = route + (queryStart >= 0 ? request.originalUrl.slice(queryStart) : '');
        Object.assign(request.headers, lowerCased(credentials.headers));
        sandbox.handle(request, response);
      });
      methodsByPath.set(path, (methodsByPath.get(path) ?? new Set()).add('GET'));
    }
  }
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
