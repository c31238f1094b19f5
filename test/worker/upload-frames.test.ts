import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHeritageError } from '../../contracts/errors.js';
import type { ObjectStore, PutOptions } from '../../contracts/ports.js';
import { uploadFrames } from '../../gpu-container/worker/job/upload-frames.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { RecordingObjectStore } from './worker-fixtures.js';

let aws: Emulator;
let dir: string;
const FAST_RETRY = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

beforeAll(async () => {
  aws = await startEmulator();
  dir = await mkdtemp(join(tmpdir(), 'heritage-upload-test-'));
});
afterAll(async () => {
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
});

async function frameFiles(prefix: string, count: number): Promise<{ path: string; key: string }[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const path = join(dir, `${prefix}-${i}.png`);
      await writeFile(path, `frame ${i}`);
      return { path, key: `outputs/${prefix}/frames/frame_${String(i + 1).padStart(5, '0')}.png` };
    }),
  );
}

/** Fails the first `failures` puts of each key with a 503, then lets them through. */
function flakyStore(inner: ObjectStore, failures: number): ObjectStore & { attempts: Map<string, number> } {
  const attempts = new Map<string, number>();
  const store = new RecordingObjectStore(inner);
  return Object.assign(store, {
    attempts,
    put(key: string, body: Uint8Array | string, options?: PutOptions) {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      if (n <= failures) {
        return Promise.reject(Object.assign(new Error('SlowDown'), { $metadata: { httpStatusCode: 503 } }));
      }
      return RecordingObjectStore.prototype.put.call(store, key, body, options);
    },
  });
}

describe('uploadFrames', () => {
  it('uploads every frame, retrying transient errors', async () => {
    // Prepare
    const frames = await frameFiles('flaky', 20);
    const store = flakyStore(aws.objects, 2);

    // Act
    await uploadFrames(store, frames, { concurrency: 4, retry: FAST_RETRY });

    // Assess
    for (const frame of frames) {
      expect(new TextDecoder().decode((await aws.objects.get(frame.key))?.body)).toMatch(/^frame \d+$/);
      expect(store.attempts.get(frame.key)).toBe(3);
    }
  });

  it('rejects with UPLOAD_FAILED naming the frame that never goes through', async () => {
    // Prepare
    const frames = await frameFiles('broken', 10);
    const badKey = frames[6]?.key ?? '';
    const store = new RecordingObjectStore(aws.objects, (key) => key === badKey);

    // Act
    const upload = uploadFrames(store, frames, { concurrency: 3, retry: FAST_RETRY });

    // Assess
    const error = await upload.catch((e: unknown) => e);
    expect(isHeritageError(error) && error.code).toBe('UPLOAD_FAILED');
    expect(isHeritageError(error) && error.details).toEqual({ key: badKey });
  });

  it('does not retry an error the caller made (a 4xx)', async () => {
    // Prepare
    const frames = await frameFiles('denied', 1);
    let calls = 0;
    const store: ObjectStore = Object.assign(Object.create(aws.objects) as ObjectStore, {
      put() {
        calls += 1;
        return Promise.reject(
          Object.assign(new Error('AccessDenied'), { $metadata: { httpStatusCode: 403 } }),
        );
      },
    });

    // Act
    const error = await uploadFrames(store, frames, { retry: FAST_RETRY }).catch((e: unknown) => e);

    // Assess
    expect(isHeritageError(error) && error.code).toBe('UPLOAD_FAILED');
    expect(calls).toBe(1);
  });

  it('never has more puts in flight than the concurrency bound', async () => {
    // Prepare
    const frames = await frameFiles('bounded', 40);
    let inFlight = 0;
    let peak = 0;
    const store: ObjectStore = Object.assign(Object.create(aws.objects) as ObjectStore, {
      async put(key: string, body: Uint8Array) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          return await aws.objects.put(key, body);
        } finally {
          inFlight -= 1;
        }
      },
    });

    // Act
    await uploadFrames(store, frames, { concurrency: 5 });

    // Assess
    expect(peak).toBeLessThanOrEqual(5);
    expect(peak).toBeGreaterThan(1);
  });
});
