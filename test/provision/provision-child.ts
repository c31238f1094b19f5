/**
 * A provisioner in its own process, for the interruption test: it reads one model slowly (a delay after
 * every chunk stands in for a slow network) and reports on stdout how many bytes it has received.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { localAwsClients } from '../../cli/local/aws-clients.js';
import type { ModelSource } from '../../contracts/model-source.js';
import { type ModelFile, provisionModels } from '../../gpu-container/worker/provision/provision-models.js';

const { ENDPOINT = '', BUCKET = '', CACHE_DIR = '', PREFIX = '', MODEL = '{}' } = process.env;

function slow(inner: ModelSource, delayMs: number): ModelSource {
  return {
    head: (key) => inner.head(key),
    async getRange(key, start, end, signal) {
      const body = await inner.getRange(key, start, end, signal);
      return (async function* delayed() {
        for await (const chunk of body) {
          await sleep(delayMs);
          yield chunk;
        }
      })();
    },
  };
}

const clients = localAwsClients(ENDPOINT);
let received = 0;
await provisionModels({
  source: slow(new S3ModelSource(clients.s3, BUCKET), 100),
  models: [JSON.parse(MODEL) as ModelFile],
  cacheDir: CACHE_DIR,
  prefix: PREFIX,
  download: { partSize: 64 * 1024, concurrency: 2 },
  onBytes: (_path, bytes) => {
    received += bytes;
    process.stdout.write(`received ${received}\n`);
  },
});
process.stdout.write('done\n');
clients.s3.destroy();
