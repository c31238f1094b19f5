import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineInterruptedError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import type { ObjectStore, PutOptions } from '../../contracts/ports.js';
import { ResultSchema } from '../../contracts/result.js';
import type { EngineJob, EngineOutput, FrameEngine } from '../../gpu-container/worker/engines/engine.js';
import type { JobOutcome } from '../../gpu-container/worker/job/job-deps.js';
import { runWorkerLoop } from '../../gpu-container/worker/job/worker-loop.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import {
  fixedRequests,
  jobDeps,
  RecordedMetrics,
  RecordingObjectStore,
  receiveOne,
  seedRequest,
  squareImage,
  workDir,
} from './worker-fixtures.js';

let aws: Emulator;
let dir: string;

beforeAll(async () => {
  aws = await startEmulator();
  dir = await workDir();
});
afterAll(async () => {
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Renders until aborted, and says when it has started. */
function blockingEngine(onStart: () => void): FrameEngine {
  return {
    name: 'comfyui',
    render(_job, signal) {
      onStart();
      return new Promise((_, reject) => {
        if (signal.aborted) reject(new EngineInterruptedError('interrupted'));
        signal.addEventListener('abort', () => reject(new EngineInterruptedError('interrupted')), {
          once: true,
        });
      });
    },
    async cleanup() {},
  };
}

describe('worker loop', () => {
  it('on shutdown mid-render releases the message at once and puts the request back to queued', async () => {
    // Prepare
    const listener = aws.listen();
    const work = await seedRequest(aws, 'sigterm-1');
    const shutdown = new AbortController();
    const engine = blockingEngine(() => shutdown.abort(new Error('SIGTERM')));
    const outcomes: JobOutcome[] = [];

    // Act
    const exit = await runWorkerLoop(
      jobDeps(aws, engine, dir),
      { idleTimeoutMs: 60_000, pollSeconds: 1, onOutcome: (o) => outcomes.push(o) },
      shutdown.signal,
    );

    // Assess
    expect(exit).toEqual({ reason: 'shutdown', handled: 1 });
    expect(outcomes.map((o) => o.kind)).toEqual(['released']);
    const status = (await aws.statuses.read('sigterm-1'))?.status;
    expect(status?.state).toBe('queued');
    expect(status?.attempt).toBe(1);
    const again = await receiveOne(aws);
    expect(JSON.parse(again.body)).toMatchObject({ request_id: work.request_id });
    expect(again.receiveCount).toBe(2);
    expect(await listener.drain()).toEqual([]);
    await aws.workQueue.delete(again.receiptHandle);
  });

  it('exits with reason idle when no work arrives within the idle timeout', async () => {
    // Prepare
    const engine = blockingEngine(() => {});

    // Act
    const exit = await runWorkerLoop(
      jobDeps(aws, engine, dir),
      { idleTimeoutMs: 1_000, startupGraceMs: 1_000, pollSeconds: 1 },
      new AbortController().signal,
    );

    // Assess
    expect(exit).toEqual({ reason: 'idle', handled: 0 });
  });

  it('stops taking work on shutdown while waiting for a message', async () => {
    // Prepare
    const shutdown = new AbortController();
    const engine = blockingEngine(() => {});
    setTimeout(() => shutdown.abort(new Error('SIGTERM')), 200);

    // Act
    const exit = await runWorkerLoop(
      jobDeps(aws, engine, dir),
      { idleTimeoutMs: 60_000, pollSeconds: 1 },
      shutdown.signal,
    );

    // Assess
    expect(exit).toEqual({ reason: 'shutdown', handled: 0 });
  });
});

/** 33 frames of 96 x 64: what seedRequest's default request (17 frames, RIFE x2) expects. */
const FRAME_COUNT = 33;

/** An engine that writes ready frames at once and notes in `journal` when each render starts and ends. */
function journalEngine(journal: string[], frame: Buffer): FrameEngine {
  return {
    name: 'comfyui',
    async render(job: EngineJob): Promise<EngineOutput> {
      journal.push(`render ${job.requestId}`);
      const paths = Array.from({ length: FRAME_COUNT }, (_, i) => join(job.workDir, `f_${i}.png`));
      await Promise.all(paths.map((path) => writeFile(path, frame)));
      journal.push(`rendered ${job.requestId}`);
      return { frames: paths, workflow: null };
    },
    async cleanup() {},
  };
}

/**
 * Holds every output write of each gated request until the test opens its gate, or the call's signal
 * aborts it (as the S3 client aborts a PUT), and notes the first hold in `journal`.
 */
class GatedStore implements ObjectStore {
  private readonly gates = new Map<string, { open: () => void; opened: Promise<void>; held: boolean }>();

  constructor(
    private readonly inner: ObjectStore,
    private readonly journal: string[],
  ) {}

  gate(requestId: string): void {
    let open = (): void => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gates.set(requestKeys(requestId).outputsPrefix, { open, opened, held: false });
  }

  open(requestId: string): void {
    this.gates.get(requestKeys(requestId).outputsPrefix)?.open();
  }

  head(key: string) {
    return this.inner.head(key);
  }
  get(key: string, range?: { start: number; end: number }, options?: { ifMatch?: string }) {
    return this.inner.get(key, range, options);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions) {
    for (const [prefix, gate] of this.gates) {
      if (!key.startsWith(prefix)) continue;
      if (!gate.held) this.journal.push(`delivering ${key.split('/')[1]}`);
      gate.held = true;
      const signal = options?.signal;
      await new Promise<void>((resolve, reject) => {
        gate.opened.then(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    return this.inner.put(key, body, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(prefix: string) {
    return this.inner.list(prefix);
  }
}

/** Runs the loop until `count` requests have an outcome, then stops it as a shutdown would. */
function runFor(
  deps: ReturnType<typeof jobDeps>,
  count: number,
  overlapDelivery?: boolean,
): { loop: ReturnType<typeof runWorkerLoop>; outcomes: JobOutcome[] } {
  const shutdown = new AbortController();
  const outcomes: JobOutcome[] = [];
  const loop = runWorkerLoop(
    deps,
    {
      idleTimeoutMs: 60_000,
      pollSeconds: 1,
      ...(overlapDelivery === undefined ? {} : { overlapDelivery }),
      onOutcome: (o) => {
        outcomes.push(o);
        if (outcomes.length === count) shutdown.abort(new Error('done'));
      },
    },
    shutdown.signal,
  );
  return { loop, outcomes };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('worker loop: the next request renders while the previous one delivers', () => {
  it('renders the second request while the first is still uploading, and each ends in one event', async () => {
    // Prepare
    const listener = aws.listen();
    const journal: string[] = [];
    const store = new GatedStore(aws.objects, journal);
    await seedRequest(aws, 'overlap-1');
    await seedRequest(aws, 'overlap-2');
    store.gate('overlap-1');
    const metrics = new RecordedMetrics();
    const deps = jobDeps(aws, journalEngine(journal, await squareImage(96, 64, 10)), dir, {
      requests: fixedRequests(store),
      metrics,
    });

    // Act: the first request's upload opens only once the second has rendered.
    const { loop, outcomes } = runFor(deps, 2, true);
    await until('the second render', () => journal.includes('rendered overlap-2'));
    store.open('overlap-1');
    const exit = await loop;

    // Assess
    expect(journal).toEqual([
      'render overlap-1',
      'rendered overlap-1',
      'delivering overlap-1',
      'render overlap-2',
      'rendered overlap-2',
    ]);
    expect(exit).toEqual({ reason: 'shutdown', handled: 2 });
    expect(outcomes.map((o) => [o.kind, 'requestId' in o ? o.requestId : ''])).toEqual([
      ['succeeded', 'overlap-1'],
      ['succeeded', 'overlap-2'],
    ]);
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status]).sort()).toEqual([
      ['overlap-1', 'succeeded'],
      ['overlap-2', 'succeeded'],
    ]);
    // The first request's GPU time ended when it handed the GPU over, long before its upload did.
    const gpu = new Map(metrics.reports.map((r) => [r.requestId, r.gpuSeconds]));
    const first = events.find((e) => e.request_id === 'overlap-1');
    expect(gpu.get('overlap-1')).toBe(first?.gpu_seconds);
    const stored = await aws.objects.get(requestKeys('overlap-1').result);
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode(stored?.body)));
    const { worker, upload } = result.timings_ms;
    expect(result.gpu_seconds * 1000).toBeLessThanOrEqual((worker ?? Number.NaN) - (upload ?? Number.NaN));
  });

  it('holds at most one request on the GPU and one delivering: the third waits for the first delivery', async () => {
    // Prepare
    const journal: string[] = [];
    const store = new GatedStore(aws.objects, journal);
    for (const id of ['bound-1', 'bound-2', 'bound-3']) await seedRequest(aws, id);
    store.gate('bound-1');
    store.gate('bound-2');
    const deps = jobDeps(aws, journalEngine(journal, await squareImage(96, 64, 10)), dir, {
      requests: fixedRequests(store),
    });

    // Act
    const { loop, outcomes } = runFor(deps, 3, true);
    await until('the second render', () => journal.includes('rendered bound-2'));
    // Give the loop every chance to take the third request too early.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const heldBack = !journal.includes('render bound-3');
    store.open('bound-1');
    await until('the third render', () => journal.includes('rendered bound-3'));
    store.open('bound-2');
    await loop;

    // Assess
    expect(heldBack).toBe(true);
    expect(journal).toEqual([
      'render bound-1',
      'rendered bound-1',
      'delivering bound-1',
      'render bound-2',
      'rendered bound-2',
      'delivering bound-2',
      'render bound-3',
      'rendered bound-3',
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('on shutdown releases both the request rendering and the one delivering, and sends no event', async () => {
    // Prepare
    const listener = aws.listen();
    const journal: string[] = [];
    const store = new GatedStore(aws.objects, journal);
    await seedRequest(aws, 'both-1');
    await seedRequest(aws, 'both-2');
    store.gate('both-1');
    const shutdown = new AbortController();
    const outcomes: JobOutcome[] = [];
    let rendering = (): void => {};
    const renderingSecond = new Promise<void>((resolve) => {
      rendering = resolve;
    });
    const inner = journalEngine(journal, await squareImage(96, 64, 10));
    const engine: FrameEngine = {
      ...inner,
      async render(job, signal, onProgress) {
        if (job.requestId === 'both-1') return inner.render(job, signal, onProgress);
        journal.push(`render ${job.requestId}`);
        rendering();
        return new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new EngineInterruptedError('interrupted')), {
            once: true,
          });
        });
      },
    };
    const deps = jobDeps(aws, engine, dir, { requests: fixedRequests(store) });

    // Act: SIGTERM while both-1 is held mid-upload and both-2 is on the GPU.
    const loop = runWorkerLoop(
      deps,
      { idleTimeoutMs: 60_000, pollSeconds: 1, overlapDelivery: true, onOutcome: (o) => outcomes.push(o) },
      shutdown.signal,
    );
    await renderingSecond;
    shutdown.abort(new Error('SIGTERM'));
    const exit = await loop;

    // Assess
    expect(exit).toEqual({ reason: 'shutdown', handled: 2 });
    expect(outcomes.map((o) => [o.kind, 'requestId' in o ? o.requestId : '']).sort()).toEqual([
      ['released', 'both-1'],
      ['released', 'both-2'],
    ]);
    for (const id of ['both-1', 'both-2']) {
      expect((await aws.statuses.read(id))?.status.state).toBe('queued');
      expect(await aws.objects.head(requestKeys(id).result)).toBeUndefined();
    }
    const again = [await receiveOne(aws), await receiveOne(aws)];
    expect(again.map((m) => JSON.parse(m.body).request_id).sort()).toEqual(['both-1', 'both-2']);
    expect(await listener.drain()).toEqual([]);
    for (const message of again) await aws.workQueue.delete(message.receiptHandle);
  });

  it('by default (overlapDelivery off), delivers each request before it takes the next', async () => {
    // Prepare
    const journal: string[] = [];
    const store = new GatedStore(aws.objects, journal);
    const recording = new RecordingObjectStore(store);
    await seedRequest(aws, 'serial-1');
    await seedRequest(aws, 'serial-2');
    store.gate('serial-1');
    const deps = jobDeps(aws, journalEngine(journal, await squareImage(96, 64, 10)), dir, {
      requests: fixedRequests(recording),
    });

    // Act
    const { loop, outcomes } = runFor(deps, 2);
    await until('the first upload', () => journal.includes('delivering serial-1'));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const heldBack = !journal.includes('render serial-2');
    store.open('serial-1');
    await loop;

    // Assess
    expect(heldBack).toBe(true);
    expect(outcomes.map((o) => [o.kind, 'requestId' in o ? o.requestId : ''])).toEqual([
      ['succeeded', 'serial-1'],
      ['succeeded', 'serial-2'],
    ]);
    const firstResult = recording.puts.indexOf(requestKeys('serial-1').result);
    const secondFrame = recording.puts.findIndex((key) =>
      key.startsWith(requestKeys('serial-2').outputsPrefix),
    );
    expect(firstResult).toBeLessThan(secondFrame);
  });
});
