import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestKeys } from '../../contracts/keys.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { type Result, ResultSchema } from '../../contracts/result.js';
import { handleReconcileEvent } from '../../functions/reconcile/handle-reconcile-event.js';
import type { ReconcileDeps, ScanCursor } from '../../functions/reconcile/reconcile.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
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
    workMessageRetentionMs: 4 * 24 * 3600 * 1000,
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

  it('marks succeeded, with one succeeded event, a silent request whose worker had committed result.json', async () => {
    // Prepare: the worker wrote result.json (every frame was out), then went silent before marking it.
    await runningRequest('committed-1', TIMEOUT_MS + 1_000);
    const keys = requestKeys('committed-1');
    const result: Result = ResultSchema.parse({
      version: 1,
      request_id: 'committed-1',
      engine: 'preview',
      workflow: null,
      frames: {
        prefix: keys.framesPrefix,
        count: 2,
        width: 64,
        height: 48,
        fps: 32,
        format: 'png',
        keys: [keys.frame(1), keys.frame(2)],
      },
      video: null,
      parameters: { steps: 8, resolution: 480, frame_length: 17, seed: 5, interpolation: 2 },
      timings_ms: { queued: 1, provision: 0, inference: 2, upload: 3, total: 6 },
      gpu_seconds: 0.005,
      created_at: NOW.toISOString(),
    });
    await emulator.objects.put(keys.result, JSON.stringify(result), { contentType: 'application/json' });

    // Act
    const first = await handleReconcileEvent(reconcileDeps(), scheduled());
    const second = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(first).toMatchObject({ report: { heartbeatsLost: ['committed-1'] } });
    expect(second).toMatchObject({ report: { heartbeatsLost: [] } });
    const published = await events.drain();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      request_id: 'committed-1',
      status: 'succeeded',
      client_reference: 'ref-committed-1',
      frames: { count: 2 },
      gpu_seconds: 0.005,
    });
    expect((await emulator.statuses.read('committed-1'))?.status).toMatchObject({
      state: 'succeeded',
      result_key: keys.result,
    });
  });

  it('leaves a silent request alone while its worker’s lease is live', async () => {
    // Prepare: silent past the timeout by its heartbeat, but its lease runs a minute beyond NOW.
    await runningRequest('leased-1', TIMEOUT_MS + 1_000);
    await emulator.statuses.update('leased-1', (current) => ({
      ...current,
      lease: { token: 't', holder: 'worker-a', expires_at: new Date(NOW.getTime() + 60_000).toISOString() },
    }));

    // Act
    const outcome = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(outcome).toMatchObject({ report: { heartbeatsLost: [] } });
    expect((await emulator.statuses.read('leased-1'))?.status.state).toBe('running');
  });

  it('publishes, within one run, the event of a request that ended without it, and only once', async () => {
    // Prepare: a status marked failed two minutes before NOW whose event never went out (a crash, an SNS outage).
    const at = new Date(NOW.getTime() - 120_000).toISOString();
    const status: StatusDocument = {
      version: 1,
      request_id: 'ended-1',
      state: 'failed',
      created_at: at,
      updated_at: at,
      client_reference: 'ref-ended-1',
      parameters: { steps: 8, resolution: 480, frame_length: 17, seed: 3, interpolation: 2 },
      error: { code: 'COMFYUI_NODE_ERROR', message: 'node 12 failed', retryable: false },
    };
    await emulator.statuses.create(status);

    // Act
    const first = await handleReconcileEvent(reconcileDeps(), scheduled());
    const second = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess: the second run does not even read the status (the listing shows the marker).
    expect(first).toMatchObject({ report: { eventsCompleted: ['ended-1'], scanned: 1 } });
    expect(second).toMatchObject({ report: { eventsCompleted: [], scanned: 0 } });
    const published = await events.drain();
    expect(published.map((e) => [e.request_id, e.status, e.error?.code, e.client_reference])).toEqual([
      ['ended-1', 'failed', 'COMFYUI_NODE_ERROR', 'ref-ended-1'],
    ]);
    expect(published[0]?.parameters).toEqual(status.parameters);
  });

  it('fails a request still queued after its work message’s life with WORK_LOST', async () => {
    // Prepare: enqueued five days before NOW; the work queue keeps messages four.
    const at = new Date(NOW.getTime() - 5 * 24 * 3600 * 1000).toISOString();
    await emulator.statuses.create({
      version: 1,
      request_id: 'stranded-1',
      state: 'queued',
      created_at: at,
      updated_at: at,
      enqueued_at: at,
      client_reference: 'ref-stranded-1',
    });
    const recentAt = new Date(NOW.getTime() - 3_600_000).toISOString();
    await emulator.statuses.create({
      version: 1,
      request_id: 'waiting-1',
      state: 'queued',
      created_at: recentAt,
      updated_at: recentAt,
      enqueued_at: recentAt,
    });

    // Act
    const outcome = await handleReconcileEvent(reconcileDeps(), scheduled());

    // Assess
    expect(outcome).toMatchObject({ report: { workLost: ['stranded-1'] } });
    expect((await events.drain()).map((e) => [e.request_id, e.error?.code, e.error?.retryable])).toEqual([
      ['stranded-1', 'WORK_LOST', true],
    ]);
    expect((await emulator.statuses.read('waiting-1'))?.status.state).toBe('queued');
  });

  it('caps the status scan and goes on from where it stopped in the next run', async () => {
    // Prepare
    await runningRequest('silent-a', TIMEOUT_MS * 2);
    await runningRequest('silent-b', TIMEOUT_MS * 2);
    await runningRequest('silent-c', TIMEOUT_MS * 2);
    const cursor: ScanCursor = {};
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
