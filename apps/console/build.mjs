// Bundles the console into dist/ (console.js, console.css, index.html): static files the gateway serves at `/`,
// with no CDN and no inline script or style, so they load offline under the same CSP as /docs.
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('.', import.meta.url));
await mkdir(`${root}dist`, { recursive: true });
await build({
  entryPoints: ['src/main.ts', 'src/console.css'],
  absWorkingDir: root,
  outdir: 'dist',
  entryNames: 'console',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome111', 'firefox111', 'safari16.4'],
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
});
await copyFile(`${root}src/index.html`, `${root}dist/index.html`);
