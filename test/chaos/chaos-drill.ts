/**
 * The chaos drill: N requests through the whole local pipeline (real dispatch, real workers on the
 * preview engine, real dead-letter and reconcile) while workers are killed at chosen points, the engine
 * crashes, S3/SQS/SNS fail transiently through a fault proxy, notifications repeat, poison arrives and
 * a manifest is replaced mid-run. Then every request is checked against the promises of docs/reliability.md.
 */

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type EmfRecord, readWorkerEmf } from '../../cli/local/emf-records.js';
import { type LocalStack, startLocalStack } from '../../cli/local/local-stack.js';
import { objectCreatedRecord } from '../../cli/local/s3-notification-bridge.js';
import { type CompletionEvent, CompletionEventSchema } from '../../contracts/event.js';
import { captureConsoleEmf } from '../support/emf-capture.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../support/fault-proxy.js';
import { drainQueue } from '../support/queues.js';
import { putManifest, putRequest } from '../support/requests.js';
import { type PlannedRequest, planDrill, type RequestFault } from './chaos-plan.js';
import { killAtHeldCall, killDuringRender, type SabotageContext } from './sabotage.js';
import { type RequestVerdict, verifyRequest } from './verify-request.js';

export interface DrillOptions {
  requests: number;
  seed: number;
  /** Local workers (maxWorkers). */
  workers: number;
  /** The drill fails if a request has no event by then. */
  timeoutMs: number;
  log?: (line: string) => void;
  /** Worker logs and work dirs go here and stay; a temporary folder, removed after, when absent. */
  workDir?: string;
}

export interface DrillReport {
  seed: number;
  requests: number;
  workers: number;
  durationMs: number;
  /** Faults that happened, by kind: per-request faults and every error or hold the proxy injected. */
  faults: Record<string, number>;
  lost: number;
  duplicates: number;
  verdicts: RequestVerdict[];
  /** Every EMF record the run wrote: the in-process functions' and every worker's, as CloudWatch would get them. */
  metrics: EmfRecord[];
}

/** Small frames: the drill tests the pipeline's promises, not the engine. */
export const DRILL_MANIFEST = { resolution: 480, frame_length: 17, interpolation: 1, video: false, seed: 7 };

/**
 * The drill's manifest for a request: a bad one where dispatch must reject it, and a video where no
 * fault is aimed, so that the run passes through every stage the worker reports (VideoMs too).
 */
function manifestFor(fault: RequestFault): typeof DRILL_MANIFEST {
  if (fault === 'bad-manifest') return { ...DRILL_MANIFEST, frame_length: 18 };
  return fault === 'none' ? { ...DRILL_MANIFEST, video: true } : DRILL_MANIFEST;
}

/** Transient faults that any deployable may meet, spread over the run (the SDK retries through them). */
const BACKGROUND_FAULTS: FaultRule[] = [
  { service: 'sqs', operation: 'ReceiveMessage', kind: 'throttle', times: 3 },
  { service: 'sqs', operation: 'SendMessage', kind: 'throttle', times: 2 },
  { service: 'sqs', operation: 'ChangeMessageVisibility', kind: 'internal-error', times: 2 },
  { service: 'sqs', operation: 'DeleteMessage', kind: 'internal-error', times: 2 },
  { service: 'sns', operation: 'Publish', kind: 'internal-error', times: 2 },
  { service: 'sns', operation: 'Publish', kind: 'throttle', times: 1 },
  { service: 's3', operation: 'GET', key: /^inbox\//, ranged: false, kind: 'throttle', times: 3 },
  { service: 's3', operation: 'GET', key: /^inbox\//, ranged: true, kind: 'internal-error', times: 2 },
  { service: 's3', operation: 'PUT', key: /^requests\/.*\/status\.json$/, kind: 'internal-error', times: 3 },
];

const frameKey = (id: string, n: number) => new RegExp(`^outputs/${id}/frames/frame_0000${n}\\.png$`);

function readEvent(body: string): CompletionEvent {
  const value = JSON.parse(body) as { Type?: string; Message?: string };
  return CompletionEventSchema.parse(value.Type === 'Notification' ? JSON.parse(value.Message ?? '') : value);
}

/** Every line the drill's workers logged (one JSON record per line). */
async function readWorkerLogs(stack: LocalStack): Promise<string[]> {
  const dir = join(stack.workDir, 'workers');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.log'));
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
  return texts.flatMap((text) => text.split('\n'));
}

async function queueDepth(stack: LocalStack, queueUrl: string): Promise<number> {
  const out = await stack.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const attributes = out.Attributes ?? {};
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** The manifest's ObjectCreated notification again, as S3's at-least-once delivery may repeat it. */
async function repeatNotification(stack: LocalStack, requestId: string, times: number): Promise<void> {
  const key = `inbox/${requestId}/manifest.json`;
  const head = await stack.objects.head(key);
  if (head === undefined) throw new Error(`${key} vanished`);
  const body = JSON.stringify({
    Records: [
      objectCreatedRecord({
        bucket: stack.aws.bucket,
        key,
        size: head.size,
        etag: head.etag,
        region: stack.aws.region,
        eventTime: new Date(),
        sequencer: `${Date.now().toString(16).toUpperCase()}00`,
      }),
    ],
  });
  await Promise.all(
    Array.from({ length: times }, () =>
      stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: stack.aws.intakeQueueUrl, MessageBody: body }),
      ),
    ),
  );
}

/** Proxy rules a fault needs in place before its request is uploaded. */
function armFault(proxy: FaultProxy, { requestId: id, fault }: PlannedRequest): void {
  const hold = (key: RegExp, operation: string, times = 1) =>
    proxy.inject({
      service: 's3',
      operation,
      key,
      kind: 'hold',
      times,
      ...(operation === 'GET' ? { ranged: false } : {}),
    });
  if (fault === 'kill-download') hold(new RegExp(`^inbox/${id}/start\\.png$`), 'GET');
  if (fault === 'kill-upload' || fault === 'term-upload') hold(frameKey(id, 2), 'PUT');
  if (fault === 'kill-every-attempt') hold(frameKey(id, 2), 'PUT', 3);
  if (fault === 'kill-before-event') hold(new RegExp(`^requests/${id}/event\\.json$`), 'PUT');
  if (fault === 'upload-transient') {
    proxy.inject({ service: 's3', operation: 'PUT', key: frameKey(id, 1), kind: 'internal-error', times: 2 });
  }
  if (fault === 'upload-broken') {
    proxy.inject({
      service: 's3',
      operation: 'PUT',
      key: frameKey(id, 1),
      kind: 'internal-error',
      times: 1_000_000,
    });
  }
}

async function waitForState(ctx: SabotageContext, requestId: string, state: string): Promise<void> {
  while (!ctx.stop.aborted) {
    if ((await ctx.stack.statuses.read(requestId))?.status.state === state) return;
    await sleep(50);
  }
}

/** Does the request's fault once its moment comes; resolves true when the fault happened. */
async function sabotage(ctx: SabotageContext, { requestId: id, fault }: PlannedRequest): Promise<boolean> {
  const actions: Partial<Record<RequestFault, () => Promise<unknown>>> = {
    'kill-download': () => killAtHeldCall(ctx, id, new RegExp(`^inbox/${id}/start\\.png$`), 'SIGKILL'),
    'kill-inference': () => killDuringRender(ctx, id, 'worker'),
    'kill-upload': () => killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGKILL'),
    'kill-before-event': () =>
      killAtHeldCall(ctx, id, new RegExp(`^requests/${id}/event\\.json$`), 'SIGKILL'),
    'term-upload': () => killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGTERM'),
    'engine-crash': () => killDuringRender(ctx, id, 'engine'),
    'kill-every-attempt': async () => {
      for (let attempt = 0; attempt < 3; attempt++) await killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGKILL');
    },
    'duplicate-x2': () => repeatNotification(ctx.stack, id, 1),
    'duplicate-x3': () => repeatNotification(ctx.stack, id, 2),
    'bad-manifest': async () => {},
    'manifest-replaced': async () => {
      await waitForState(ctx, id, 'running');
      if (ctx.stop.aborted) throw new Error('request finished before it was seen running');
      await putManifest(ctx.stack.objects, id, { ...DRILL_MANIFEST, positive_prompt: 'a different scene' });
    },
  };
  const action = actions[fault];
  if (action === undefined) return fault !== 'none';
  try {
    await action();
    return true;
  } catch {
    return false;
  }
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const log = options.log ?? (() => {});
  const startedAt = Date.now();
  const plan = planDrill(options.requests, options.seed);
  let proxy: FaultProxy | undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'heritage-chaos-')));
  // The drill reads the workers' WARN records (a retried ENGINE_CRASHED is logged at WARN), and the
  // local stack hands this level to the workers: a quieter one would hide what the drill checks.
  if (['ERROR', 'CRITICAL', 'SILENT'].includes(process.env.POWERTOOLS_LOG_LEVEL?.toUpperCase() ?? '')) {
    process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  }
  const stack = await startLocalStack({
    maxWorkers: options.workers,
    idleTimeoutSeconds: 900,
    requestTimeoutSeconds: 300,
    // A killed worker's request comes back after this; heartbeats renew it three times per window.
    workVisibilitySeconds: 10,
    maxReceiveCount: 3,
    reconcileIntervalSeconds: 2,
    workDir,
    functionMetrics: true,
    interpose: async (endpoint) => {
      proxy = await startFaultProxy(endpoint);
      return proxy.endpoint;
    },
    onError: (source, error) => log(`background ${source}: ${(error as Error).message}`),
  });
  // The functions' metrics, kept for the alarm checks (and out of the drill's own output).
  const functionEmf = captureConsoleEmf();
  const faultProxy = proxy as unknown as FaultProxy;
  const stop = new AbortController();
  const events = new Map<string, CompletionEvent[]>();
  const eventsQueue = stack.aws.subscribeQueue('chaos-completions');
  const collecting = (async () => {
    while (!stop.signal.aborted) {
      for (const body of await drainQueue(stack.clients.sqs, eventsQueue)) {
        const event = readEvent(body);
        events.set(event.request_id, [...(events.get(event.request_id) ?? []), event]);
      }
      await sleep(200);
    }
  })();
  try {
    for (const rule of BACKGROUND_FAULTS) faultProxy.inject(rule);
    const poison = ['{"not": "an S3 event"', '{"version": 1, "request_id": "../../etc/passwd"}'];
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.aws.intakeQueueUrl, MessageBody: poison[0] }),
    );
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.aws.workQueueUrl, MessageBody: poison[1] }),
    );
    const ctx: SabotageContext = { stack, proxy: faultProxy, stop: stop.signal };
    const sabotages: Promise<boolean>[] = [];
    for (const planned of plan) {
      armFault(faultProxy, planned);
      await putRequest(stack.objects, planned.requestId, manifestFor(planned.fault));
      sabotages.push(sabotage(ctx, planned));
      log(`submitted ${planned.requestId}`);
    }
    const deadline = startedAt + options.timeoutMs;
    while (Date.now() < deadline && plan.some((p) => !events.has(p.requestId))) await sleep(500);
    // Settle: nothing left in flight that could still publish, then a little longer for late duplicates.
    while (
      Date.now() < deadline &&
      (await queueDepth(stack, stack.aws.workQueueUrl)) + (await queueDepth(stack, stack.aws.workDlqUrl)) > 0
    ) {
      await sleep(500);
    }
    await sleep(3_000);
    stop.abort();
    await collecting;
    const injected = await Promise.all(sabotages);
    const faults: Record<string, number> = { 'poison-message': poison.length };
    plan.forEach((planned, i) => {
      if (injected[i]) faults[planned.fault] = (faults[planned.fault] ?? 0) + 1;
    });
    for (const [kind, count] of Object.entries(faultProxy.injected())) faults[`proxy ${kind}`] = count;
    const workerLogs = await readWorkerLogs(stack);
    const metrics = [...functionEmf.records, ...(await readWorkerEmf(join(stack.workDir, 'workers')))];
    const verdicts: RequestVerdict[] = [];
    for (const planned of plan)
      verdicts.push(await verifyRequest(stack, planned, events.get(planned.requestId) ?? [], workerLogs));
    return {
      seed: options.seed,
      requests: plan.length,
      workers: options.workers,
      durationMs: Date.now() - startedAt,
      faults,
      lost: verdicts.filter((v) => v.events === 0).length,
      duplicates: verdicts.reduce((sum, v) => sum + Math.max(0, v.events - 1), 0),
      verdicts,
      metrics,
    };
  } finally {
    functionEmf.stop();
    stop.abort();
    for (const call of faultProxy.held()) call.release();
    await stack.stop();
    await faultProxy.close();
    if (options.workDir === undefined) await rm(workDir, { recursive: true, force: true });
  }
}

export function formatReport(report: DrillReport): string {
  const lines = [
    `chaos drill: seed ${report.seed}, ${report.requests} requests, ${report.workers} workers, ${(report.durationMs / 1000).toFixed(0)} s`,
    'faults injected:',
    ...Object.entries(report.faults)
      .sort()
      .map(([kind, count]) => `  ${kind}: ${count}`),
    ...report.verdicts.map(
      (v) =>
        `  ${v.requestId}: ${v.events} event(s), ${v.state} after ${v.attempts ?? 0} attempt(s)${v.errorCode === undefined ? '' : ` ${v.errorCode}`}${v.problems.length === 0 ? '' : ` PROBLEMS: ${v.problems.join('; ')}`}`,
    ),
    `requests: ${report.requests}  lost: ${report.lost}  duplicates: ${report.duplicates}  with problems: ${report.verdicts.filter((v) => v.problems.length > 0).length}`,
  ];
  return lines.join('\n');
}
