import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineInterruptedError } from '../../contracts/errors.js';
import type { FrameEngine } from '../../gpu-container/worker/engines/engine.js';
import type { JobOutcome } from '../../gpu-container/worker/job/job-deps.js';
import { runWorkerLoop } from '../../gpu-container/worker/job/worker-loop.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { jobDeps, receiveOne, seedRequest, workDir } from './worker-fixtures.js';

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
