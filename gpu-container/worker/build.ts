/**
 * Bundles the worker for the container into dist/worker/: main.mjs, and part-thread.mjs, the entry point
 * of the model provisioner's download threads, which main.mjs starts from beside itself.
 */
import { build } from 'esbuild';

await build({
  entryPoints: {
    main: 'gpu-container/worker/main.ts',
    'part-thread': 'gpu-container/worker/provision/part-thread.ts',
  },
  outdir: 'dist/worker',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: true,
  // Native or binary-shipping packages stay in node_modules; ffmpeg comes from FFMPEG_PATH in the image.
  external: ['sharp', '@ffmpeg-installer/ffmpeg'],
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __heritageRequire } from 'node:module';\nconst require = __heritageRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
