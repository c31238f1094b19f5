/**
 * Bundles the model-provisioning benchmark to run on a machine without the repository or its
 * node_modules: dist/bench/model-provision.mjs, and part-thread.mjs beside it, the download threads'
 * entry point, which the bundle starts from beside itself. Only Node 22 is needed to run it:
 *
 *   npx tsx bench/bundle.ts
 *   node dist/bench/model-provision.mjs
 */
import { bundleForNode } from '../gpu-container/worker/node-bundle.js';

await bundleForNode({
  entryPoints: {
    'model-provision': 'bench/model-provision.ts',
    'part-thread': 'gpu-container/worker/provision/part-thread.ts',
  },
  outdir: 'dist/bench',
});
