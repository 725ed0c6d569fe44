import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type IRouter } from 'express';
import { sendProblem } from './problem.ts';

export const CONSOLE_ASSETS_PATH = '/console';

/** Where the console's build (apps/console/dist) is, found through the workspace package as npm links it. */
export function consoleDir(): string | undefined {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('@gateway/console/package.json')), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The console: its page at `/`, its script and style under `/console/`. Static files only (no inline script or
 * style), so the CSP /docs runs under holds here too; the page reads everything through the public API.
 * Served before the key check: the page itself carries no data, and asks for a key when the gateway wants one.
 */
export function mountConsole(router: IRouter, dir: string | undefined = consoleDir()): void {
  if (!dir) {
    router.get('/', (request, response) =>
      sendProblem(response, {
        type: 'console-not-built',
        title: 'Console not built',
        status: 503,
        detail: 'The console has not been built: run "npm run build" (npm start builds it).',
        instance: request.originalUrl,
      }),
    );
    return;
  }
  router.get('/', (_request, response) => {
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(join(dir, 'index.html'));
  });
  router.use(
    CONSOLE_ASSETS_PATH,
    express.static(dir, { index: false, redirect: false, setHeaders: (response) => response.setHeader('Cache-Control', 'no-cache') }),
  );
}
