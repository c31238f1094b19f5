import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkHealth,
  LIVENESS_FILE,
  LivenessSchema,
  startLiveness,
} from '../../gpu-container/worker/liveness.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heritage-liveness-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function liveness(fields: Record<string, unknown>): Promise<void> {
  await writeFile(
    join(dir, LIVENESS_FILE),
    JSON.stringify({
      pid: 42,
      at: new Date().toISOString(),
      phase: 'serving',
      engine: 'managed',
      comfy_url: null,
      ...fields,
    }),
  );
}

function comfy(status: number): Promise<{ url: string; server: Server }> {
  const server = createServer((_, res) => {
    res.writeHead(status);
    res.end('{}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
        server,
      });
    }),
  );
}

describe('worker liveness', () => {
  it('writes the file at once, updates it, and removes it on stop', async () => {
    // Act
    const writer = startLiveness(dir, 60_000);
    writer.update({ phase: 'serving', engine: 'preview' });
    await writer.flushed();
    const written = LivenessSchema.parse(JSON.parse(await readFile(join(dir, LIVENESS_FILE), 'utf8')));
    await writer.stop();

    // Assess
    expect(written).toMatchObject({ pid: process.pid, phase: 'serving', engine: 'preview', comfy_url: null });
    await expect(readFile(join(dir, LIVENESS_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('is healthy while the file is fresh', async () => {
    await liveness({});

    expect(await checkHealth(dir)).toEqual({ healthy: true, reason: 'worker 42 serving (engine managed)' });
  });

  it('is unhealthy when the worker stopped writing', async () => {
    await liveness({ at: new Date(Date.now() - 120_000).toISOString() });

    expect((await checkHealth(dir, { maxAgeMs: 60_000 })).reason).toBe(
      'worker 42 last wrote its liveness 120 s ago',
    );
  });

  it('is unhealthy without a liveness file', async () => {
    expect(await checkHealth(dir)).toEqual({
      healthy: false,
      reason: `no liveness file at ${join(dir, LIVENESS_FILE)}`,
    });
  });

  it('asks the ComfyUI the worker named, and is unhealthy when it does not answer', async () => {
    // Prepare
    const up = await comfy(200);
    const down = await comfy(500);
    try {
      // Act
      await liveness({ comfy_url: up.url });
      const healthy = await checkHealth(dir);
      await liveness({ comfy_url: down.url });
      const unhealthy = await checkHealth(dir);

      // Assess
      expect(healthy.healthy).toBe(true);
      expect(unhealthy).toEqual({ healthy: false, reason: `ComfyUI at ${down.url} does not answer` });
    } finally {
      up.server.close();
      down.server.close();
    }
  });
});
