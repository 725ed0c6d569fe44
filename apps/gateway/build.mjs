// Bundles the gateway and its workspace packages into dist/; npm dependencies stay external.
import { build } from 'esbuild';

const workspaceOnly = {
  name: 'workspace-only',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@gateway/') ? undefined : { path: args.path, external: true }));
  },
};

await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  plugins: [workspaceOnly],
  logLevel: 'warning',
});
