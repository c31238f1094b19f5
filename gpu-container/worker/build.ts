/** Bundles the worker into one ESM file for the container: dist/worker/main.mjs. */
import { build } from 'esbuild';

await build({
  entryPoints: ['gpu-container/worker/main.ts'],
  outfile: 'dist/worker/main.mjs',
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
