/**
 * Frame upload: the worker's uploader (bounded parallelism, retries) against sequential PutObject, for
 * 129 frames of about 500 KB, through the S3-like network model and on raw loopback.
 * Run: npm run bench -- frame-upload
 */
import { readFile, stat } from 'node:fs/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { uploadFrames } from '../gpu-container/worker/job/upload-frames.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalAws } from '../local/local-aws.js';
import { benchFrames, median } from './bench-frames.js';
import { S3_LIKE } from './network-model-proxy.js';
import { startRemoteS3 } from './remote-s3.js';

export interface UploadFigures {
  network: string;
  sequentialMs: number;
  parallel: { concurrency: number; ms: number; ratio: number }[];
}

const REPEATS = 3;
const CONCURRENCIES = [16, 32];

function s3For(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function measure(
  network: string,
  endpoint: string,
  bucket: string,
  frames: string[],
): Promise<UploadFigures> {
  const s3 = s3For(endpoint);
  const store = new S3ObjectStore(s3, bucket);
  const keyOf = (run: string, i: number) => `outputs/bench-${run}/frames/${i}.png`;
  // Warm up connections and the SDK's lazy paths so the first timed run is not penalized.
  await uploadFrames(
    store,
    frames.slice(0, 32).map((path, i) => ({ path, key: keyOf('warm', i) })),
    { concurrency: 32 },
  );
  const sequential: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    sequential.push(
      await timed(async () => {
        for (const [i, path] of frames.entries()) {
          const body = await readFile(path);
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: keyOf(`seq${r}`, i),
              Body: body,
              ContentType: 'image/png',
            }),
          );
        }
      }),
    );
  }
  const sequentialMs = median(sequential);
  const parallel: UploadFigures['parallel'] = [];
  for (const concurrency of CONCURRENCIES) {
    const runs: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const uploads = frames.map((path, i) => ({ path, key: keyOf(`par${concurrency}-${r}`, i) }));
      runs.push(await timed(async () => void (await uploadFrames(store, uploads, { concurrency }))));
    }
    const ms = median(runs);
    parallel.push({ concurrency, ms, ratio: sequentialMs / ms });
  }
  s3.destroy();
  return { network, sequentialMs, parallel };
}

export async function benchFrameUpload(): Promise<UploadFigures[]> {
  const frames = await benchFrames();
  const sizes = await Promise.all(frames.map(async (path) => (await stat(path)).size));
  const meanKb = sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024;
  console.log(
    `frame upload: ${frames.length} PNG frames, mean ${meanKb.toFixed(0)} KiB, median of ${REPEATS} runs`,
  );
  const figures: UploadFigures[] = [];
  const remote = await startRemoteS3(S3_LIKE);
  try {
    const model = `network model (${S3_LIKE.latencyMs} ms first byte, ${S3_LIKE.bytesPerSecond / 1024 / 1024} MiB/s per connection)`;
    figures.push(await measure(model, remote.modelEndpoint, remote.bucket, frames));
  } finally {
    await remote.stop();
  }
  const aws = await startLocalAws();
  try {
    figures.push(
      await measure('raw loopback (in-process emulator, CPU-bound)', aws.endpoint, aws.bucket, frames),
    );
  } finally {
    await aws.stop();
  }
  for (const f of figures) {
    const parallel = f.parallel
      .map((p) => `${p.concurrency}-way ${(p.ms / 1000).toFixed(2)} s (${p.ratio.toFixed(1)}x)`)
      .join(', ');
    console.log(`  ${f.network}: sequential ${(f.sequentialMs / 1000).toFixed(2)} s; ${parallel}`);
  }
  return figures;
}
