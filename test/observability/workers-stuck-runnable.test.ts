/**
 * WorkersStuckRunnable on the gauges that reconcile really emits: the real reconcile handler, AWS
 * Batch through the Batch fake (no emulator covers it), its EMF records captured and given to the
 * alarm's own expression. Reconcile runs once a minute in the cloud; here the runs come back to back,
 * so each run's records are stamped with the minute it stands for.
 */
import type { JobStatus, JobSummary } from '@aws-sdk/client-batch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createObservability } from '../../functions/observability.js';
import { handleReconcileEvent } from '../../functions/reconcile/handle-reconcile-event.js';
import type { ReconcileDeps } from '../../functions/reconcile/reconcile.js';
import { type EmfRecord, emfDatapoints } from '../../local/emf-records.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { buildHeritage } from '../infra/support/heritage-app.js';
import { type AlarmProperties, evaluateAlarm } from '../support/alarm-evaluation.js';
import { captureConsoleEmf } from '../support/emf-capture.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { launcherFor } from '../support/function-deps.js';

const MINUTE = 60_000;
const START = Date.parse('2026-12-01T10:00:00Z');

let emulator: Emulator;
let batch: BatchFake;
let alarm: AlarmProperties;
const saved = { ...process.env };

beforeEach(async () => {
  // Metrics on, through the console (Powertools' dev mode), so that the capture sees them; logs quiet.
  Object.assign(process.env, {
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  emulator = await startEmulator();
  batch = fakeBatch();
  const alarms = buildHeritage().template.findResources('AWS::CloudWatch::Alarm');
  const [stuck] = Object.entries(alarms).filter(([id]) => id.includes('WorkersStuckRunnable'));
  alarm = stuck?.[1].Properties as AlarmProperties;
});

afterEach(async () => {
  batch.mock.restore();
  await emulator.stop();
  process.env = { ...saved };
});

function reconcileDeps(): ReconcileDeps {
  const { logger, metrics } = createObservability('heritage-reconcile');
  return {
    bucket: emulator.bucket,
    objects: emulator.objects,
    statuses: emulator.statuses,
    events: emulator.events,
    workQueue: emulator.workQueue,
    launcher: launcherFor(batch),
    maxWorkers: 3,
    requestTimeoutMs: 15 * MINUTE,
    workMessageRetentionMs: 4 * 24 * 60 * MINUTE,
    maxStatusesScanned: 100,
    leaseMs: MINUTE,
    workerJobPrefix: 'heritage-worker',
    now: () => new Date(),
    logger,
    metrics,
  };
}

/** Runs the scheduled reconcile once per minute for `minutes`, calling `before(minute)` first. */
async function reconcileEveryMinute(minutes: number, before: (minute: number) => void = () => {}) {
  const deps = reconcileDeps();
  const records: EmfRecord[] = [];
  for (let minute = 0; minute < minutes; minute++) {
    before(minute);
    const capture = captureConsoleEmf();
    try {
      await handleReconcileEvent(deps, { 'detail-type': 'Scheduled Event' });
    } finally {
      capture.stop();
    }
    const stamp = START + minute * MINUTE + MINUTE / 2;
    for (const record of capture.records)
      records.push({ ...record, _aws: { ...record._aws, Timestamp: stamp } });
  }
  return { records, end: START + minutes * MINUTE };
}

function job(jobId: string, status: JobStatus): JobSummary {
  return { jobId, jobName: `heritage-worker-${jobId}`, status };
}

describe('WorkersStuckRunnable, on the gauges reconcile emits', () => {
  it('breaches when worker jobs wait RUNNABLE with none running for 15 minutes', async () => {
    // Prepare
    batch.addLiveJob(job('a', 'RUNNABLE'));
    batch.addLiveJob(job('b', 'RUNNABLE'));

    // Act
    const { records, end } = await reconcileEveryMinute(15);
    const evaluation = evaluateAlarm(alarm, records.flatMap(emfDatapoints), end);

    // Assess
    expect(records).toHaveLength(15);
    expect(evaluation.values).toEqual(Array.from({ length: 15 }, () => 1));
    expect(evaluation.state).toBe('ALARM');
  });

  it('stays OK while a worker runs, however long others wait for capacity', async () => {
    // Prepare
    batch.addLiveJob(job('a', 'RUNNABLE'));
    batch.addLiveJob(job('b', 'RUNNING'));

    // Act
    const { records, end } = await reconcileEveryMinute(15);
    const evaluation = evaluateAlarm(alarm, records.flatMap(emfDatapoints), end);

    // Assess
    expect(evaluation.values).toEqual(Array.from({ length: 15 }, () => 0));
    expect(evaluation.state).toBe('OK');
  });

  it('stays OK when the waiting job gets a GPU in the fifteenth minute', async () => {
    // Prepare
    const waiting = job('a', 'RUNNABLE');
    batch.addLiveJob(waiting);

    // Act
    const { records, end } = await reconcileEveryMinute(15, (minute) => {
      if (minute === 14) waiting.status = 'RUNNING';
    });
    const evaluation = evaluateAlarm(alarm, records.flatMap(emfDatapoints), end);

    // Assess
    expect(evaluation.values.at(-1)).toBe(0);
    expect(evaluation.state).toBe('OK');
  });

  it('stays OK when no worker job waits at all', async () => {
    // Act
    const { records, end } = await reconcileEveryMinute(15);
    const evaluation = evaluateAlarm(alarm, records.flatMap(emfDatapoints), end);

    // Assess
    expect(evaluation.values).toEqual(Array.from({ length: 15 }, () => 0));
    expect(evaluation.state).toBe('OK');
  });
});
