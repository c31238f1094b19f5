/**
 * A provisioner in its own process, for the interruption test: it reads one model slowly, through a
 * bandwidth-capped proxy that stands in for a slow network (over the wire, so that download threads
 * are slowed too), on THREADS download threads, and reports on stdout how many bytes it has received.
 */
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { startNetworkModelProxy } from '../../bench/network-model-proxy.js';
import { type ModelFile, provisionModels } from '../../gpu-container/worker/provision/provision-models.js';
import { localModelSource } from '../../local/aws-clients.js';

const { ENDPOINT = '', BUCKET = '', CACHE_DIR = '', PREFIX = '', MODEL = '{}', THREADS = '1' } = process.env;

const slowNetwork = await startNetworkModelProxy({
  upstream: ENDPOINT,
  latencyMs: 0,
  bytesPerSecond: 256 * 1024,
});
const source = S3ModelSource.open(localModelSource(slowNetwork.endpoint, BUCKET));
let received = 0;
await provisionModels({
  source,
  models: [JSON.parse(MODEL) as ModelFile],
  cacheDir: CACHE_DIR,
  prefix: PREFIX,
  download: { partSize: 64 * 1024, concurrency: 2, threads: Number(THREADS) },
  onBytes: (_path, bytes) => {
    received += bytes;
    process.stdout.write(`received ${received}\n`);
  },
});
process.stdout.write('done\n');
source.close();
await slowNetwork.close();
