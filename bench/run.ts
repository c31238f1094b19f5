/** Runs every Heritage benchmark, or only those named: `npm run bench -- frame-upload worker-overhead`. */
import { runDispatchBurst } from './dispatch-burst.js';
import { benchFrameUpload } from './frame-upload.js';
import { benchModelProvision } from './model-provision.js';
import { benchOverlapDelivery } from './overlap-delivery.js';
import { type ModelShape, REMOTE_S3_FLAG, serveRemoteS3 } from './remote-s3.js';
import { benchWorkerOverhead } from './worker-overhead.js';

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  'dispatch-burst': runDispatchBurst,
  'frame-upload': benchFrameUpload,
  'model-provision': benchModelProvision,
  'overlap-delivery': benchOverlapDelivery,
  'worker-overhead': benchWorkerOverhead,
};

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in BENCHMARKS));
if (requested[0] === REMOTE_S3_FLAG) {
  // The S3 side of a benchmark, started by startRemoteS3() as a second process of this entry point.
  await serveRemoteS3(JSON.parse(requested[1] ?? '{}') as ModelShape);
} else if (unknown.length > 0) {
  console.error(
    `heritage bench: unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`,
  );
  process.exitCode = 2;
} else {
  for (const [name, run] of Object.entries(BENCHMARKS)) {
    if (requested.length === 0 || requested.includes(name)) await run();
  }
}
