import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../contracts/status.js';
import { handleReconcileEvent } from '../../functions/reconcile/handle-reconcile-event.js';
import type { ReconcileDeps, ScanCursor } from '../../functions/reconcile/reconcile.js';
import { type BatchFake, fakeBatch } from '../support/batch-fake.js';
import { type Emulator, type EventListener, startEmulator } from '../support/emulator.js';
import { launcherFor, quietObservability } from '../support/function-deps.js';
import { readEventFixture } from '../support/intake-events.js';

const NOW = new Date('2026-11-24T01:30:00Z');
const TIMEOUT_MS = 10 * 60 * 1000;

let emulator: Emulator;
let events: EventListener;
let batch: BatchFake;

function reconcileDeps(overrides: Partial<ReconcileDeps> = {}): ReconcileDeps {
  return {
    bucket: emulator.bucket,
    objects: emulator.objects,
    statuses: emulator.statuses,
    events: emulator.events,
    workQueue: emulator.workQueue,
    launcher: launcherFor(batch),
    maxWorkers: 3,
    requestTimeoutMs: TIMEOUT_MS,
    maxStatusesScanned: 100,
    leaseMs: 60_000,
    workerJobPrefix: 'heritage-worker',
    now: () => NOW,
    ...quietObservability(),
    ...overrides,
  };
}

const scheduled = () => readEventFixture<object>('scheduled.json');

async function queueWork(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await emulator.sqs.send(
      new SendMessageCommand({ QueueUrl: emulator.workQueueUrl, MessageBody: `{"n":${i}}` }),
    );
  }
}

/** A request a worker took, whose last heartbeat was `silentMs` before NOW. */
async function runningRequest(id: string, silentMs: number): Promise<void> {
  const at = new Date(NOW.getTime() - silentMs).toISOString();
  const status: StatusDocument = {
    version: 1,
    request_id: id,
    state: 'queued',
    created_at: at,
    updated_at: at,
    seed: 5,
    client_reference: `ref-${id}`,
  };
  await emulator.statuses.create(status);
  await emulator.statuses.update(id, (current) => ({
    ...current,
    state: 'running',
    worker_id: 'worker-a',
    attempt: 1,
    heartbeat_at: at,
    updated_at: at,
  }));
}

beforeEach(async () => {
  emulator = await startEmulator();
  events = emulator.listen();
  batch = fakeBatch();
});

afterEach(async () => {
  batch.mock.restore();
  await emulator.stop();
});

describe('reconcile', () => {
  it('launches workers when work waits and no worker is live', async () => {
    // Prepare
    await queueWork(5);

    // Act
    const outcome = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(outcome).toMatchObject({
      kind: 'reconciled',
      report: { scaling: { backlog: 5, live: 0, launched: 3 } },
    });
    expect(batch.submitted).toEqual([
      {
        jobName: 'heritage-worker-202611240102-3',
        jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/heritage-workers',
        jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/heritage-worker:1',
        arrayProperties: { size: 3 },
      },
    ]);
  });

  it('launches nothing when live workers already match the backlog', async () => {
    // Prepare
    await queueWork(2);
    batch.addLiveJob({
      jobId: 'a',
      jobName: 'heritage-worker-x-2',
      status: 'RUNNING',
      arrayProperties: { size: 2, statusSummary: { RUNNING: 2 } },
    });

    // Act
    await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(batch.submitted).toEqual([]);
  });

  it('launches nothing when no work waits', async () => {
    // Act
    await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(batch.submitted).toEqual([]);
  });

  it('counts the worker jobs waiting for capacity and those running on every run, with no work waiting', async () => {
    // Prepare
    batch.addLiveJob({ jobId: 'w', jobName: 'heritage-worker-x-1', status: 'RUNNABLE' });
    batch.addLiveJob({
      jobId: 'r',
      jobName: 'heritage-worker-y-3',
      status: 'RUNNING',
      arrayProperties: { size: 3, statusSummary: { RUNNING: 2, RUNNABLE: 1 } },
    });

    // Act
    const outcome = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(outcome).toMatchObject({
      kind: 'reconciled',
      report: { census: { live: 4, runnable: 2, running: 2 }, scaling: { backlog: 0, launched: 0 } },
    });
  });

  it('fails a running request silent for longer than its timeout once, with HEARTBEAT_LOST', async () => {
    // Prepare
    await runningRequest('silent-1', TIMEOUT_MS + 1_000);
    await runningRequest('alive-1', TIMEOUT_MS - 60_000);

    // Act
    const first = await handleReconcileEvent(reconcileDeps(), scheduled());
    const second = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(first).toMatchObject({ report: { heartbeatsLost: ['silent-1'] } });
    expect(second).toMatchObject({ report: { heartbeatsLost: [] } });
    const published = await events.drain();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      request_id: 'silent-1',
      status: 'failed',
      client_reference: 'ref-silent-1',
      error: { code: 'HEARTBEAT_LOST', details: { worker_id: 'worker-a' } },
    });
    expect((await emulator.statuses.read('silent-1'))?.status.state).toBe('failed');
    expect((await emulator.statuses.read('alive-1'))?.status.state).toBe('running');
  });

  it('caps the status scan and goes on from where it stopped in the next run', async () => {
    // Prepare
    await runningRequest('silent-a', TIMEOUT_MS * 2);
    await runningRequest('silent-b', TIMEOUT_MS * 2);
    await runningRequest('silent-c', TIMEOUT_MS * 2);
    const cursor: ScanCursor = { skip: 0 };
    const deps = reconcileDeps({ maxStatusesScanned: 2 });

    // Act
    const first = await handleReconcileEvent(deps, scheduled(), cursor);
    const second = await handleReconcileEvent(deps, scheduled(), cursor);

    // Assess
    expect(first).toMatchObject({ report: { scanned: 2, capped: true } });
    expect(second).toMatchObject({ report: { capped: false } });
    expect((await events.drain()).map((event) => event.request_id).sort()).toEqual([
      'silent-a',
      'silent-b',
      'silent-c',
    ]);
  });

  it('records a worker job that Batch reports FAILED', async () => {
    // Prepare
    const failed = readEventFixture<{ detail: { status: string; jobName: string } }>('batch-job-failed.json');
    const succeeded = { ...failed, detail: { ...failed.detail, status: 'SUCCEEDED' } };
    const foreign = { ...failed, detail: { ...failed.detail, jobName: 'nightly-report' } };

    // Act
    const outcomes = await Promise.all(
      [failed, succeeded, foreign].map((event) => handleReconcileEvent(reconcileDeps(), event)),
    );

    // Assess
    expect(outcomes).toEqual([
      { kind: 'job-change', workerFailed: true },
      { kind: 'job-change', workerFailed: false },
      { kind: 'job-change', workerFailed: false },
    ]);
  });

  it('refuses an event it does not handle', async () => {
    await expect(handleReconcileEvent(reconcileDeps(), { 'detail-type': 'Object Created' })).rejects.toThrow(
      /does not handle/,
    );
  });
});
