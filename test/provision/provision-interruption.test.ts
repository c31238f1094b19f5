import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { provisionModels } from '../../gpu-container/worker/provision/provision-models.js';
import { localModelSource } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { putModel, sha256Of } from './model-fixtures.js';

const MiB = 1024 * 1024;

/** Resolves once the child has reported at least `bytes` received. */
async function receivedAtLeast(child: ChildProcess, bytes: number): Promise<number> {
  if (child.stdout === null) throw new Error('child has no stdout');
  for await (const line of createInterface({ input: child.stdout })) {
    const received = Number(/^received (\d+)$/.exec(line)?.[1] ?? Number.NaN);
    if (received >= bytes) return received;
    if (line === 'done') throw new Error('the child finished before it could be interrupted');
  }
  throw new Error('the child exited before it could be interrupted');
}

describe('provisionModels interrupted', () => {
  let emulator: Emulator;

  let source: S3ModelSource;

  beforeAll(async () => {
    emulator = await startEmulator();
    source = S3ModelSource.open(localModelSource(emulator.endpoint, emulator.modelBucket));
  });
  afterAll(async () => {
    source.close();
    await emulator.stop();
  });

  it.each([1, 2])(
    'leaves no file that looks complete when killed mid-download on %i thread(s), and the next run recovers',
    async (threads) => {
      // Prepare
      const cacheDir = await mkdtemp(join(tmpdir(), 'heritage-cache-'));
      const stored = await putModel(emulator.s3, emulator.modelBucket, {
        prefix: 'models',
        folder: 'diffusion_models',
        name: 'unet.safetensors',
        size: 8 * MiB,
      });
      // One process (node --import tsx), not the tsx launcher, which would leave its child running.
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/provision/provision-child.ts'], {
        env: {
          ...process.env,
          ENDPOINT: emulator.endpoint,
          BUCKET: emulator.modelBucket,
          CACHE_DIR: cacheDir,
          PREFIX: 'models',
          MODEL: JSON.stringify(stored.model),
          THREADS: String(threads),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = once(child, 'exit');

      // Act
      const received = await receivedAtLeast(child, 1 * MiB);
      child.kill('SIGKILL');
      await exited;
      const leftovers = (await readdir(join(cacheDir, 'diffusion_models'))).sort();
      const report = await provisionModels({
        source,
        models: [stored.model],
        cacheDir,
        prefix: 'models',
        lock: { pollMs: 20 },
      });

      // Assess
      expect(received).toBeLessThan(stored.bytes.byteLength);
      expect(leftovers).toEqual(['unet.safetensors.lock', 'unet.safetensors.partial']);
      expect(report.files.map((file) => file.outcome)).toEqual(['downloaded']);
      const path = join(cacheDir, 'diffusion_models', 'unet.safetensors');
      expect(sha256Of(await readFile(path))).toBe(stored.model.sha256);
      expect(await readdir(join(cacheDir, 'diffusion_models'))).toEqual(['unet.safetensors']);
      await rm(cacheDir, { recursive: true, force: true });
    },
    60_000,
  );
});
