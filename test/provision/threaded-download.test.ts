/**
 * Ranged downloads spread over download threads, over the wire to the emulator: each thread opens its
 * own source from the descriptor, so faults reach a thread through a fault proxy, not a test double.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { DownloadFailedError } from '../../contracts/errors.js';
import { provisionModels } from '../../gpu-container/worker/provision/provision-models.js';
import { downloadRanged } from '../../gpu-container/worker/provision/ranged-download.js';
import { localModelSource } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { putModel } from './model-fixtures.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('downloadRanged on download threads', () => {
  let emulator: Emulator;
  let proxy: FaultProxy;
  let direct: S3ModelSource;
  let faulty: S3ModelSource;
  let dir: string;
  let runs = 0;

  beforeAll(async () => {
    emulator = await startEmulator();
    proxy = await startFaultProxy(emulator.endpoint);
    direct = S3ModelSource.open(localModelSource(emulator.endpoint, emulator.modelBucket));
    faulty = S3ModelSource.open(localModelSource(proxy.endpoint, emulator.modelBucket));
  });
  afterAll(async () => {
    direct.close();
    faulty.close();
    await proxy.close();
    await emulator.stop();
  });
  beforeEach(async () => {
    runs += 1;
    dir = await mkdtemp(join(tmpdir(), 'heritage-threads-'));
    return () => rm(dir, { recursive: true, force: true });
  });

  const put = (size: number) =>
    putModel(emulator.s3, emulator.modelBucket, {
      prefix: `threads-${runs}`,
      folder: 'diffusion_models',
      name: 'unet.safetensors',
      size,
    });
  const key = () => `threads-${runs}/diffusion_models/unet.safetensors`;

  it('writes every part at its offset from 3 threads and hashes the file in order', async () => {
    // Prepare
    const stored = await put(2 * MiB + 4321);
    const path = join(dir, 'unet.partial');

    // Act
    const result = await downloadRanged({
      source: direct,
      key: key(),
      size: stored.bytes.byteLength,
      path,
      partSize: 64 * KiB,
      concurrency: 6,
      threads: 3,
    });

    // Assess
    expect(result.plan.threads).toBe(3);
    expect(result.sha256).toBe(stored.model.sha256);
    expect(Buffer.compare(await readFile(path), stored.bytes)).toBe(0);
  });

  it('reports progress from the threads in batches that sum to the size', async () => {
    // Prepare: network chunks are at most 64 KiB, so 1 MiB parts would give 16 or more reports each
    // if the threads reported every chunk.
    const stored = await put(8 * MiB);
    const reports: number[] = [];

    // Act
    const result = await downloadRanged({
      source: direct,
      key: key(),
      size: stored.bytes.byteLength,
      path: join(dir, 'unet.partial'),
      partSize: 1 * MiB,
      concurrency: 4,
      threads: 2,
      onBytes: (bytes) => reports.push(bytes),
    });

    // Assess
    expect(result.plan.threads).toBe(2);
    expect(reports.reduce((sum, bytes) => sum + bytes, 0)).toBe(stored.bytes.byteLength);
    expect(reports.length).toBeLessThanOrEqual(result.plan.parts);
  });

  it('fails with DOWNLOAD_FAILED when a thread keeps failing to read a part, leaving no file that looks complete', async () => {
    // Prepare: the fault proxy answers every ranged GET of the object with 500 (HEAD goes through).
    const stored = await put(1 * MiB);
    const cacheDir = join(dir, 'cache');
    proxy.inject({
      service: 's3',
      operation: 'GET',
      key: new RegExp(`^threads-${runs}/`),
      ranged: true,
      kind: 'internal-error',
      times: Number.POSITIVE_INFINITY,
    });

    // Act
    const provisioning = provisionModels({
      source: faulty,
      models: [stored.model],
      cacheDir,
      prefix: `threads-${runs}`,
      download: { partSize: 64 * KiB, concurrency: 4, threads: 2 },
    });

    // Assess: the thread's error arrives as its own class, with its code and details.
    const error = await provisioning.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DownloadFailedError);
    expect(error).toMatchObject({ code: 'DOWNLOAD_FAILED', details: { key: key(), attempts: 3 } });
    expect(await readdir(join(cacheDir, 'diffusion_models'))).toEqual([]);
  });

  it('fails with DOWNLOAD_FAILED when the object is gone once the threads read it', async () => {
    // Prepare
    const stored = await put(512 * KiB);
    await emulator.s3.send(new DeleteObjectCommand({ Bucket: emulator.modelBucket, Key: key() }));

    // Act
    const downloading = downloadRanged({
      source: direct,
      key: key(),
      size: stored.bytes.byteLength,
      path: join(dir, 'unet.partial'),
      partSize: 64 * KiB,
      concurrency: 4,
      threads: 2,
      attempts: 1,
    });

    // Assess
    await expect(downloading).rejects.toBeInstanceOf(DownloadFailedError);
  });

  it.each([1, 2])(
    'stops its %i thread(s) and rejects with the reason of the caller who aborted',
    async (threads) => {
      // Prepare
      const stored = await put(4 * MiB);
      const caller = new AbortController();
      const reason = new Error('worker shutting down (test)');

      // Act
      const downloading = downloadRanged({
        source: direct,
        key: key(),
        size: stored.bytes.byteLength,
        path: join(dir, 'unet.partial'),
        partSize: 64 * KiB,
        concurrency: 4,
        threads,
        signal: caller.signal,
        onBytes: () => caller.abort(reason),
      });

      // Assess
      await expect(downloading).rejects.toBe(reason);
    },
  );
});
