/**
 * Bundles the worker for the container into dist/worker/: main.mjs; part-thread.mjs, the entry point
 * of the model provisioner's download threads, which main.mjs starts from beside itself; and
 * health-check.mjs, the image's HEALTHCHECK.
 */
import { bundleForNode } from './node-bundle.js';

await bundleForNode({
  entryPoints: {
    main: 'gpu-container/worker/main.ts',
    'part-thread': 'gpu-container/worker/provision/part-thread.ts',
    'health-check': 'gpu-container/worker/health-check.ts',
  },
  outdir: 'dist/worker',
  // Native or binary-shipping packages stay in node_modules; ffmpeg comes from FFMPEG_PATH in the image.
  external: ['sharp', '@ffmpeg-installer/ffmpeg'],
});
