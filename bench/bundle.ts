/**
 * Bundles the model-provisioning benchmark to run on a machine without the repository or its
 * node_modules: dist/bench/model-provision.mjs, and part-thread.mjs beside it, the download threads'
 * entry point, which the bundle starts from beside itself. Only Node 22 is needed to run it:
 *
 *   npx tsx bench/bundle.ts
 *   node dist/bench/model-provision.mjs
 */
import { build } from 'esbuild';

await build({
  entryPoints: {
    'model-provision': 'bench/model-provision.ts',
    'part-thread': 'gpu-container/worker/provision/part-thread.ts',
  },
  outdir: 'dist/bench',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: true,
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __heritageRequire } from 'node:module';\nconst require = __heritageRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
