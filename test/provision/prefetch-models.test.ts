import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefetchModels } from '../../gpu-container/worker/provision/prefetch-models.js';

describe('prefetchModels', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heritage-prefetch-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads every byte of every file, across chunk boundaries, and reports how many', async () => {
    // Prepare: one file over a 64 MiB chunk boundary, one small, one empty.
    const sizes = [64 * 1024 * 1024 + 5, 1234, 0];
    const paths = sizes.map((_, i) => join(dir, `model-${i}.safetensors`));
    await Promise.all(paths.map((path, i) => writeFile(path, randomBytes(sizes[i] ?? 0))));

    // Act
    const report = await prefetchModels(paths, { concurrency: 3 });

    // Assess
    expect(report.bytes).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  it('stops reading when aborted', async () => {
    // Prepare
    const path = join(dir, 'large.safetensors');
    await writeFile(path, Buffer.alloc(8 * 64 * 1024 * 1024));
    const abort = new AbortController();
    abort.abort();

    // Act
    const report = await prefetchModels([path], { signal: abort.signal });

    // Assess
    expect(report.bytes).toBe(0);
  });

  it('fails for a file that is not there, which the caller treats as a lost overlap only', async () => {
    await expect(prefetchModels([join(dir, 'absent.safetensors')])).rejects.toThrow(/ENOENT/);
  });
});
