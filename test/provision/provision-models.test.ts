import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { provisionModels } from '../../gpu-container/worker/provision/provision-models.js';
import { localModelSource } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { corruptOnceSource, countingSource, failingSource, putModel, sha256Of } from './model-fixtures.js';

const KiB = 1024;
const tinyParts = { partSize: 64 * KiB, concurrency: 8 };

describe('provisionModels', () => {
  let emulator: Emulator;
  let cacheDir: string;
  let prefix = '';
  let runs = 0;

  let opened: S3ModelSource;

  beforeAll(async () => {
    emulator = await startEmulator();
    opened = S3ModelSource.open(localModelSource(emulator.endpoint, emulator.modelBucket));
  });
  afterAll(async () => {
    opened.close();
    await emulator.stop();
  });
  beforeEach(async () => {
    runs += 1;
    prefix = `models-${runs}`;
    cacheDir = await mkdtemp(join(tmpdir(), 'heritage-cache-'));
    return () => rm(cacheDir, { recursive: true, force: true });
  });

  // Opened from a descriptor, as the worker does, so that download threads can open it too.
  const source = () => opened;
  const put = (folder: string, name: string, size: number, body?: Uint8Array) =>
    putModel(emulator.s3, emulator.modelBucket, { prefix, folder, name, size, ...(body ? { body } : {}) });

  describe.each([1, 3])('on %i download thread(s)', (threads) => {
    it('downloads each file over many ranged reads and renames it into place only once verified', async () => {
      // Prepare
      const unet = await put('diffusion_models', 'unet.safetensors', 3 * 1024 * KiB + 17);
      const vae = await put('vae', 'vae.safetensors', 100 * KiB);

      // Act
      const report = await provisionModels({
        source: source(),
        models: [unet.model, vae.model],
        cacheDir,
        prefix,
        download: { ...tinyParts, threads },
      });

      // Assess: the 100 KiB file has two parts, so no more than two threads.
      expect(report.files.map((file) => [file.outcome, file.downloads, file.threads])).toEqual([
        ['downloaded', 1, threads],
        ['downloaded', 1, Math.min(threads, 2)],
      ]);
      expect(report.downloadedBytes).toBe(unet.bytes.byteLength + vae.bytes.byteLength);
      expect(sha256Of(await readFile(join(cacheDir, 'diffusion_models/unet.safetensors')))).toBe(
        unet.model.sha256,
      );
      expect(sha256Of(await readFile(join(cacheDir, 'vae/vae.safetensors')))).toBe(vae.model.sha256);
      expect(await readdir(join(cacheDir, 'diffusion_models'))).toEqual(['unet.safetensors']);
    });

    it('catches a byte flipped in the stored object and fails with MODEL_CHECKSUM, leaving nothing behind', async () => {
      // Prepare
      const good = await put('loras', 'lora.safetensors', 256 * KiB);
      const flipped = Uint8Array.from(good.bytes);
      flipped[100_000] = (flipped[100_000] ?? 0) ^ 0x01;
      await put('loras', 'lora.safetensors', 256 * KiB, flipped);

      // Act
      const provisioning = provisionModels({
        source: source(),
        models: [good.model],
        cacheDir,
        prefix,
        download: { ...tinyParts, threads },
      });

      // Assess
      await expect(provisioning).rejects.toMatchObject({
        code: 'MODEL_CHECKSUM',
        details: { expected_sha256: good.model.sha256, actual_sha256: sha256Of(flipped) },
      });
      expect(await readdir(join(cacheDir, 'loras'))).toEqual([]);
    });

    it('fetches again a cached file that was truncated halfway', async () => {
      // Prepare
      const unet = await put('diffusion_models', 'unet.safetensors', 1024 * KiB);
      await provisionModels({
        source: source(),
        models: [unet.model],
        cacheDir,
        prefix,
        download: { ...tinyParts, threads },
      });
      const path = join(cacheDir, 'diffusion_models/unet.safetensors');
      await truncate(path, 512 * KiB);

      // Act
      const report = await provisionModels({
        source: source(),
        models: [unet.model],
        cacheDir,
        prefix,
        download: { ...tinyParts, threads },
      });

      // Assess
      expect(report.files.map((file) => file.outcome)).toEqual(['downloaded']);
      expect(sha256Of(await readFile(path))).toBe(unet.model.sha256);
    });

    it('replaces a half-written .partial and a lock left by a dead process', async () => {
      // Prepare
      const unet = await put('diffusion_models', 'unet.safetensors', 1024 * KiB);
      const path = join(cacheDir, 'diffusion_models/unet.safetensors');
      const deadPid = 2 ** 22 + 1; // above Linux's pid_max: no process has it
      await mkdir(join(cacheDir, 'diffusion_models'));
      await writeFile(`${path}.partial`, unet.bytes.subarray(0, 512 * KiB));
      await writeFile(
        `${path}.lock`,
        JSON.stringify({
          pid: deadPid,
          hostname: hostname(),
          token: 'dead',
          acquired_at: '2026-01-01T00:00:00Z',
        }),
      );

      // Act
      const report = await provisionModels({
        source: source(),
        models: [unet.model],
        cacheDir,
        prefix,
        download: { ...tinyParts, threads },
      });

      // Assess
      expect(report.files.map((file) => file.outcome)).toEqual(['downloaded']);
      expect(sha256Of(await readFile(path))).toBe(unet.model.sha256);
      expect(await readdir(join(cacheDir, 'diffusion_models'))).toEqual(['unet.safetensors']);
    });

    it('downloads each file once when two provisioners share one cache', async () => {
      // Prepare
      const models = await Promise.all([
        put('diffusion_models', 'high.safetensors', 1024 * KiB),
        put('diffusion_models', 'low.safetensors', 1024 * KiB),
        put('text_encoders', 'umt5.safetensors', 512 * KiB),
      ]);
      let received = 0;
      const run = () =>
        provisionModels({
          source: source(),
          models: models.map((stored) => stored.model),
          cacheDir,
          prefix,
          download: { partSize: 16 * KiB, concurrency: 2, threads },
          lock: { pollMs: 20 },
          onBytes: (_path, bytes) => {
            received += bytes;
          },
        });

      // Act
      const [a, b] = await Promise.all([run(), run()]);

      // Assess
      const total = models.reduce((sum, stored) => sum + stored.bytes.byteLength, 0);
      expect(received).toBe(total);
      expect(a.downloadedBytes + b.downloadedBytes).toBe(total);
      const downloaded = [...a.files, ...b.files].filter((file) => file.outcome === 'downloaded');
      expect(downloaded.map((file) => file.threads)).toEqual([1, 1, 1].fill(Math.min(threads, 2)));
      for (const stored of models) {
        const bytes = await readFile(join(cacheDir, stored.model.folder, stored.model.name));
        expect(sha256Of(bytes)).toBe(stored.model.sha256);
      }
    });
  });

  // Test doubles wrap the source, and a wrapper cannot be opened in another thread: these run on the
  // calling thread (faults inside threads come over the wire: threaded-download.test.ts).
  it('costs no download when the cache is already complete', async () => {
    // Prepare
    const unet = await put('diffusion_models', 'unet.safetensors', 512 * KiB);
    await provisionModels({ source: source(), models: [unet.model], cacheDir, prefix, download: tinyParts });
    const counted = countingSource(source());

    // Act
    const report = await provisionModels({ source: counted, models: [unet.model], cacheDir, prefix });

    // Assess
    expect(report.files.map((file) => file.outcome)).toEqual(['cached']);
    expect(counted.bytesServed()).toBe(0);
  });

  it('deletes a copy that fails its checksum and fetches it again once', async () => {
    // Prepare
    const vae = await put('vae', 'vae.safetensors', 300 * KiB);

    // Act
    const report = await provisionModels({
      source: corruptOnceSource(source()),
      models: [vae.model],
      cacheDir,
      prefix,
      download: tinyParts,
    });

    // Assess
    expect(report.files.map((file) => [file.outcome, file.downloads])).toEqual([['downloaded', 2]]);
    expect(sha256Of(await readFile(join(cacheDir, 'vae/vae.safetensors')))).toBe(vae.model.sha256);
  });

  it('retries a part whose read failed, and still verifies the file', async () => {
    // Prepare
    const unet = await put('diffusion_models', 'unet.safetensors', 1024 * KiB);

    // Act
    const report = await provisionModels({
      source: failingSource(source(), 5 * 64 * KiB, 2),
      models: [unet.model],
      cacheDir,
      prefix,
      download: tinyParts,
    });

    // Assess
    expect(report.files.map((file) => file.outcome)).toEqual(['downloaded']);
    expect(sha256Of(await readFile(join(cacheDir, 'diffusion_models/unet.safetensors')))).toBe(
      unet.model.sha256,
    );
  });

  it('fails with DOWNLOAD_FAILED when a part keeps failing, leaving no file at the final name', async () => {
    // Prepare
    const unet = await put('diffusion_models', 'unet.safetensors', 1024 * KiB);

    // Act
    const provisioning = provisionModels({
      source: failingSource(source(), 5 * 64 * KiB, Number.POSITIVE_INFINITY),
      models: [unet.model],
      cacheDir,
      prefix,
      download: tinyParts,
    });

    // Assess
    await expect(provisioning).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      details: { start: 5 * 64 * KiB },
    });
    expect(await readdir(join(cacheDir, 'diffusion_models'))).toEqual([]);
  });

  it('fails with MODEL_UNAVAILABLE when the model bucket lacks the file', async () => {
    // Prepare
    const model = { name: 'missing.safetensors', folder: 'vae', sha256: null, bytes: null };

    // Act
    const provisioning = provisionModels({ source: source(), models: [model], cacheDir, prefix });

    // Assess
    await expect(provisioning).rejects.toMatchObject({ code: 'MODEL_UNAVAILABLE' });
  });
});
