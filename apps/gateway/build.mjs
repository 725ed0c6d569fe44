// Bundles the gateway and its workspace packages into dist/; npm dependencies stay external.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const workspaceOnly = {
  name: 'workspace-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@gateway/') ? undefined : { path: args.path, external: true }));
  },
};

await build({
  // main.js: the service (npm start). cli.js: the `gateway` command (bin/gateway.js), e.g. `gateway validate`.
  entryPoints: ['src/main.ts', 'src/cli.ts'],
  absWorkingDir: fileURLToPath(new URL('.', import.meta.url)),
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Dynamic imports become their own chunks, so the Redis libraries they import load only when REDIS_URL is set.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  plugins: [workspaceOnly],
  logLevel: 'warning',
});
