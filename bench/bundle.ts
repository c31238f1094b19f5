/**
 * Bundles the benchmarks that run on a machine without the repository or its node_modules (the GPU
 * machine) into dist/bench/: model-provision.mjs, managed-start.mjs, and the thread entry points they
 * start from beside themselves (part-thread.mjs, model-front-thread.mjs). Only Node 22 is needed, and
 * sharp for managed-start: put dist/bench/ inside the image's worker folder, whose node_modules has it.
 *
 *   npx tsx bench/bundle.ts
 *   node dist/bench/model-provision.mjs
 */
import { bundleForNode } from '../gpu-container/worker/node-bundle.js';

await bundleForNode({
  entryPoints: {
    'model-provision': 'bench/model-provision.ts',
    'managed-start': 'bench/managed-start.ts',
    'part-thread': 'gpu-container/worker/provision/part-thread.ts',
    'model-front-thread': 'bench/model-front-thread.ts',
  },
  outdir: 'dist/bench',
  external: ['sharp'],
});
