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
import { type CompletionEvent, CompletionEventSchema, UPLOAD_REJECTED_TYPE } from '../../contracts/event.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import { type EmfRecord, readWorkerEmf } from '../../local/emf-records.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { objectCreatedRecord } from '../../local/s3-notification-bridge.js';
import { drainQueue } from '../../local/testkit/queues.js';
import { putManifest, putRequest, sampleImage } from '../../local/testkit/requests.js';
import { captureConsoleEmf } from '../support/emf-capture.js';
import {
  type FaultProxy,
  type FaultRule,
  type ForwardedCall,
  type InjectedRule,
  startFaultProxy,
} from '../support/fault-proxy.js';
import { type PlannedRequest, planDrill, REQUEST_FAULTS, type RequestFault } from './chaos-plan.js';
import {
  collateralVictims,
  lostReceives,
  type MarkWindow,
  readJournal,
  secondEventExcused,
  type WorkerJournal,
} from './collateral.js';
import { killAtHeldCall, killDuringRender, type SabotageContext, until } from './sabotage.js';
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
  /** Run the workers with OVERLAP_DELIVERY on (default off, as the worker's own default). */
  overlapDelivery?: boolean;
}

export interface DrillReport {
  seed: number;
  requests: number;
  workers: number;
  overlapDelivery: boolean;
  durationMs: number;
  /** Takes a worker made while another of its requests was still in flight: overlap that happened. */
  overlappedTakes: number;
  /** Workers the drill killed. */
  kills: number;
  /** Faults that happened, by kind: per-request faults and every error or hold the proxy injected. */
  faults: Record<string, number>;
  /** Background rules that did not fire as often as armed: their faults were never met. */
  backgroundUnfired: string[];
  /** Per published terminal event: ms from SNS answering to its `event.published` marker being stored. */
  markWindowsMs: number[];
  lost: number;
  /** Second terminal events that the documented window does not explain. */
  duplicates: number;
  /**
   * Second events with the same body from a kill aimed at another request that landed inside this
   * request's window (SNS answered, marker not yet stored): the one documented source of a second event.
   */
  windowDuplicates: number;
  verdicts: RequestVerdict[];
  /** Every EMF record the run wrote: the in-process functions' and every worker's, as CloudWatch would get them. */
  metrics: EmfRecord[];
}

/** Receives of a work message before the work DLQ takes it. */
const DRILL_MAX_RECEIVES = 3;

/** How dead-letter ends a request whose receives ran out. */
const DEAD_LETTER_CODES = ['WORKER_CRASHED', 'RETRIES_EXHAUSTED'];

/** The work queue's visibility in the drill: a killed worker's request comes back after this. */
const DRILL_VISIBILITY_SECONDS = 10;

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
  return [...(await readWorkerLogsById(stack)).values()].flat();
}

/** Each worker's lines, by worker id (its log file is named after it). */
async function readWorkerLogsById(stack: LocalStack): Promise<Map<string, string[]>> {
  const dir = join(stack.workDir, 'workers');
  const names = (await readdir(dir)).filter((name) => name.endsWith('.log'));
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
  return new Map(names.map((name, i) => [name.slice(0, -'.log'.length), (texts[i] ?? '').split('\n')]));
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

/** A rule armed for one request's fault, and how often it must have fired for the fault to count. */
interface ArmedRule {
  what: string;
  rule: InjectedRule;
  /** Fired at least this often. */
  atLeast: number;
  /** And at most this often (a transient fault that must have been retried through, not more). */
  atMost?: number;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The dispatch's SendMessage of a request's work message (SQS's JSON protocol names the queue). */
function workMessageBody(stack: LocalStack, id: string): RegExp {
  const queue = escapeRegExp(stack.aws.workQueueUrl.split('/').pop() ?? '');
  return new RegExp(`^(?=[\\s\\S]*"QueueUrl":"[^"]*/${queue}")(?=[\\s\\S]*${escapeRegExp(id)})`);
}

/** Proxy rules a fault needs in place before its request is uploaded. */
function armFault(
  stack: LocalStack,
  proxy: FaultProxy,
  { requestId: id, fault }: PlannedRequest,
): ArmedRule[] {
  const armed: ArmedRule[] = [];
  const arm = (what: string, rule: FaultRule, atLeast = 1, atMost?: number) =>
    armed.push({ what, rule: proxy.inject(rule), atLeast, ...(atMost === undefined ? {} : { atMost }) });
  const hold = (what: string, key: RegExp, operation: string, times = 1) =>
    arm(
      what,
      {
        service: 's3',
        operation,
        key,
        kind: 'hold',
        times,
        ...(operation === 'GET' ? { ranged: false } : {}),
      },
      times,
      times,
    );
  const startImage = new RegExp(`^inbox/${id}/start\\.png$`);
  const outbox = new RegExp(`^requests/${id}/event\\.json$`);
  if (fault === 'kill-download') hold('held start.png GET', startImage, 'GET');
  if (fault === 'kill-upload' || fault === 'term-upload') hold('held frame PUT', frameKey(id, 2), 'PUT');
  if (fault === 'kill-every-attempt') hold('held frame PUTs', frameKey(id, 2), 'PUT', 3);
  if (fault === 'kill-before-event') hold('held outbox PUT', outbox, 'PUT');
  if (fault === 'kill-after-mark-last') {
    hold('held frame PUTs', frameKey(id, 2), 'PUT', 2);
    hold('held outbox PUT on the last delivery', outbox, 'PUT');
  }
  if (fault === 'two-holders') {
    // The work message is read as dispatch sends it (and let go at once), to be delivered a second time.
    arm(
      'work message seen',
      { service: 'sqs', operation: 'SendMessage', body: workMessageBody(stack, id), kind: 'hold', times: 1 },
      1,
      1,
    );
    hold('held frame PUT', frameKey(id, 2), 'PUT');
  }
  if (fault === 'image-replaced') hold("held worker's start.png GET", startImage, 'GET');
  if (fault === 'sns-outage') {
    const body = new RegExp(escapeRegExp(id));
    arm('SNS outage', {
      service: 'sns',
      operation: 'Publish',
      body,
      kind: 'internal-error',
      times: 1_000_000,
    });
  }
  if (fault === 'mark-fails') {
    // Three tries of one SDK call, then one more: the second marker attempt goes through.
    const marker = new RegExp(`^requests/${id}/event\\.published$`);
    arm(
      'failed marker PUTs',
      { service: 's3', operation: 'PUT', key: marker, kind: 'internal-error', times: 4 },
      4,
      4,
    );
  }
  if (fault === 'upload-transient') {
    arm(
      'transient frame PUT errors',
      { service: 's3', operation: 'PUT', key: frameKey(id, 1), kind: 'internal-error', times: 2 },
      2,
      2,
    );
  }
  if (fault === 'upload-broken') {
    arm('frame PUT errors', {
      service: 's3',
      operation: 'PUT',
      key: frameKey(id, 1),
      kind: 'internal-error',
      times: 1_000_000,
    });
  }
  return armed;
}

/** What an armed rule fired, against what its fault needs; undefined when it holds. */
function unfired(armed: ArmedRule): string | undefined {
  const fired = armed.rule.fired();
  if (fired >= armed.atLeast && (armed.atMost === undefined || fired <= armed.atMost)) return undefined;
  const wanted = armed.atMost === armed.atLeast ? `${armed.atLeast}` : `at least ${armed.atLeast}`;
  return `${armed.what} fired ${fired} time(s), expected ${wanted}`;
}

async function waitForState(ctx: SabotageContext, requestId: string, state: string): Promise<void> {
  await until(
    ctx,
    `${requestId} to be ${state}`,
    async () => ((await ctx.stack.statuses.read(requestId))?.status.state === state ? true : undefined),
    50,
  );
}

/** Waits for a worker to log `text` on a line that names the request (reading every log: not too often). */
async function waitForWorkerLog(ctx: SabotageContext, requestId: string, text: string): Promise<void> {
  const logged = async () =>
    (await readWorkerLogs(ctx.stack)).some((line) => line.includes(requestId) && line.includes(text));
  await until(
    ctx,
    `a worker to log "${text}" for ${requestId}`,
    async () => ((await logged()) ? true : undefined),
    250,
  );
}

/**
 * One `two-holders` fault at a time: its first holder stays parked until a second worker took the
 * duplicate, so two at once could park every worker and wait on each other for ever.
 */
let twoHolders: Promise<unknown> = Promise.resolve();

/** A second delivery of the request's work message while its first holder is parked mid-upload. */
function deliverTwice(ctx: SabotageContext, id: string): Promise<void> {
  const turn = twoHolders.then(() => deliverTwiceNow(ctx, id));
  twoHolders = turn.catch(() => undefined);
  return turn;
}

async function deliverTwiceNow(ctx: SabotageContext, id: string): Promise<void> {
  const sent = await until(ctx, `the work message of ${id}`, async () =>
    ctx.proxy.held().find((call) => call.service === 'sqs' && call.body.includes(id)),
  );
  sent.release();
  const { MessageBody } = JSON.parse(sent.body) as { MessageBody: string };
  const upload = await until(ctx, `a held frame PUT of ${id}`, async () =>
    ctx.proxy.held().find((call) => call.key !== undefined && frameKey(id, 2).test(call.key)),
  );
  await ctx.stack.clients.sqs.send(
    new SendMessageCommand({ QueueUrl: ctx.stack.aws.workQueueUrl, MessageBody }),
  );
  await waitForWorkerLog(ctx, id, REQUEST_FAULTS['two-holders'].logged);
  upload.release();
}

/** The start image replaced while the worker's GET of it is parked: after validation, before the read. */
async function replaceStartImage(ctx: SabotageContext, id: string): Promise<void> {
  const key = `inbox/${id}/start.png`;
  const read = await until(ctx, `the worker's GET of ${key}`, async () =>
    ctx.proxy.held().find((call) => call.key === key),
  );
  await ctx.stack.objects.put(key, await sampleImage(160, 96, 'png', 90), { contentType: 'image/png' });
  read.release();
}

/** Keeps the request's SNS outage on past three visibility windows from its first refused publish. */
async function snsOutage(ctx: SabotageContext, armed: ArmedRule[]): Promise<void> {
  const [outage] = armed;
  if (outage === undefined) throw new Error('no outage rule armed');
  await until(ctx, 'the first refused publish', async () => (outage.rule.fired() > 0 ? true : undefined));
  await sleep(3 * DRILL_VISIBILITY_SECONDS * 1000 + 2_000, undefined, { signal: ctx.stop });
  outage.rule.remove();
}

/**
 * Does the request's fault once its moment comes. Resolves undefined when the fault happened, or with
 * what went wrong: a fault that did not happen proves nothing, so the drill counts it as a problem.
 */
async function sabotage(
  ctx: SabotageContext,
  { requestId: id, fault }: PlannedRequest,
  armed: ArmedRule[],
): Promise<string | undefined> {
  const beforeTerminal = { beforeTerminal: true };
  const actions: Partial<Record<RequestFault, () => Promise<unknown>>> = {
    'kill-download': () =>
      killAtHeldCall(ctx, id, new RegExp(`^inbox/${id}/start\\.png$`), 'SIGKILL', beforeTerminal),
    'kill-inference': () => killDuringRender(ctx, id, 'worker'),
    'kill-upload': () => killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGKILL', beforeTerminal),
    'kill-before-event': () =>
      killAtHeldCall(ctx, id, new RegExp(`^requests/${id}/event\\.json$`), 'SIGKILL'),
    'term-upload': () => killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGTERM', beforeTerminal),
    'engine-crash': () => killDuringRender(ctx, id, 'engine'),
    'kill-every-attempt': async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        await killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGKILL', beforeTerminal);
      }
    },
    'kill-after-mark-last': async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        await killAtHeldCall(ctx, id, frameKey(id, 2), 'SIGKILL', beforeTerminal);
      }
      await killAtHeldCall(ctx, id, new RegExp(`^requests/${id}/event\\.json$`), 'SIGKILL');
    },
    'two-holders': () => deliverTwice(ctx, id),
    'image-replaced': () => replaceStartImage(ctx, id),
    'sns-outage': () => snsOutage(ctx, armed),
    'duplicate-x2': () => repeatNotification(ctx.stack, id, 1),
    'duplicate-x3': () => repeatNotification(ctx.stack, id, 2),
    'manifest-replaced': async () => {
      await waitForState(ctx, id, 'running');
      await putManifest(ctx.stack.objects, id, { ...DRILL_MANIFEST, positive_prompt: 'a different scene' });
    },
  };
  try {
    await actions[fault]?.();
    return undefined;
  } catch (error) {
    // Its plan cannot go on (a kill aimed at another request ended this one's attempt, and its
    // receives ran out): nothing may stay held for it, or dead-letter or reconcile, which finish the
    // request instead, would wait on a call that nobody lets go.
    for (const rule of armed) rule.rule.remove();
    for (const call of ctx.proxy.held()) if ((call.key ?? call.body).includes(id)) call.release();
    return `the ${fault} fault did not happen: ${(error as Error).message}`;
  }
}

/**
 * The window for a second event, as it happened: from SNS answering a request's first terminal event
 * to the `event.published` marker being stored, per request. A crash inside it, or a marker that never
 * gets stored, lets another path publish the same event again once the outbox claim lapses.
 */
function markWindows(calls: ForwardedCall[]): Map<string, MarkWindow> {
  const windows = new Map<string, MarkWindow>();
  for (const call of calls) {
    if (call.service === 'sns' && call.operation === 'Publish' && call.status === 200) {
      const message = new URLSearchParams(call.body).get('Message');
      const event = message === null ? undefined : CompletionEventSchema.safeParse(JSON.parse(message)).data;
      if (event !== undefined && event.type !== UPLOAD_REJECTED_TYPE && !windows.has(event.request_id))
        windows.set(event.request_id, { answeredAt: call.answeredAt, markedAt: undefined });
    }
    const marker = call.key?.match(/^requests\/([^/]+)\/event\.published$/);
    if (
      call.service === 's3' &&
      call.operation === 'PUT' &&
      call.status === 200 &&
      marker?.[1] !== undefined
    ) {
      const window = windows.get(marker[1]);
      if (window !== undefined && window.markedAt === undefined) window.markedAt = call.answeredAt;
    }
  }
  return windows;
}

/** The stored markers' windows, in ms. */
function markWindowsMs(windows: Map<string, MarkWindow>): number[] {
  return [...windows.values()].flatMap((w) => (w.markedAt === undefined ? [] : [w.markedAt - w.answeredAt]));
}

/** The p-th percentile (0–100) of some numbers, nearest rank. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Dispatch's DuplicateEvents records that name the request: proof it saw the repeated notifications. */
function duplicatesSeen(metrics: EmfRecord[], requestId: string): number {
  return metrics.filter(
    (record) => record.request_id === requestId && record[METRIC_NAMES.duplicateEvents] !== undefined,
  ).length;
}

/** Every way the request's fault may not have happened as planned; empty when it is proven. */
function proofProblems(
  planned: PlannedRequest,
  sabotaged: string | undefined,
  armed: ArmedRule[],
  metrics: EmfRecord[],
): string[] {
  const problems = [sabotaged, ...armed.map(unfired)].filter((p): p is string => p !== undefined);
  const repeats = { 'duplicate-x2': 1, 'duplicate-x3': 2 } as Partial<Record<RequestFault, number>>;
  const expected = repeats[planned.fault];
  if (expected !== undefined) {
    const seen = duplicatesSeen(metrics, planned.requestId);
    if (seen < expected)
      problems.push(`dispatch counted ${seen} duplicate notification(s), expected ${expected}`);
  }
  return problems;
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const log = options.log ?? (() => {});
  const overlapDelivery = options.overlapDelivery ?? false;
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
    workVisibilitySeconds: DRILL_VISIBILITY_SECONDS,
    maxReceiveCount: DRILL_MAX_RECEIVES,
    reconcileIntervalSeconds: 2,
    workDir,
    functionMetrics: true,
    // INFO: the drill reads every take and end of a request (collateral.ts) besides the warnings.
    workerEnv: { POWERTOOLS_LOG_LEVEL: 'INFO', OVERLAP_DELIVERY: String(overlapDelivery) },
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
    const background = BACKGROUND_FAULTS.map(
      (rule): ArmedRule => ({
        what: `background ${rule.service} ${rule.operation} ${rule.kind}`,
        rule: faultProxy.inject(rule),
        atLeast: rule.times,
      }),
    );
    const poison = ['{"not": "an S3 event"', '{"version": 1, "request_id": "../../etc/passwd"}'];
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.aws.intakeQueueUrl, MessageBody: poison[0] }),
    );
    await stack.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.aws.workQueueUrl, MessageBody: poison[1] }),
    );
    const ctx: SabotageContext = { stack, proxy: faultProxy, stop: stop.signal, kills: [] };
    const sabotages: Promise<string | undefined>[] = [];
    const armed: ArmedRule[][] = [];
    // Submissions are paced so that a duplicate work message (two-holders) is not queued behind the
    // whole run: at most this many requests wait for their event at once.
    const inFlight = Math.max(4, options.workers * 4);
    const deadline = startedAt + options.timeoutMs;
    const ended = (planned: PlannedRequest) =>
      events.get(planned.requestId)?.some((event) => event.type !== UPLOAD_REJECTED_TYPE) === true;
    for (const [i, planned] of plan.entries()) {
      while (Date.now() < deadline && plan.slice(0, i).filter((p) => !ended(p)).length >= inFlight) {
        await sleep(200);
      }
      const rules = armFault(stack, faultProxy, planned);
      armed.push(rules);
      await putRequest(stack.objects, planned.requestId, manifestFor(planned.fault));
      sabotages.push(sabotage(ctx, planned, rules));
      log(`submitted ${planned.requestId}`);
    }
    while (Date.now() < deadline && plan.some((p) => !ended(p))) await sleep(500);
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
    const sabotaged = await Promise.all(sabotages);
    const logsById = await readWorkerLogsById(stack);
    const workerLogs = [...logsById.values()].flat();
    const journals = new Map<string, WorkerJournal>(
      [...logsById].map(([workerId, lines]) => [workerId, readJournal(lines)]),
    );
    const victims = collateralVictims(ctx.kills, journals);
    const windows = markWindows(faultProxy.forwarded());
    const metrics = [...functionEmf.records, ...(await readWorkerEmf(join(stack.workDir, 'workers')))];
    // A fault counts only where it is proven: its rules fired as planned and its action happened.
    const faults: Record<string, number> = { 'poison-message': poison.length };
    const verdicts: RequestVerdict[] = [];
    for (const [i, planned] of plan.entries()) {
      const hitBy = victims.get(planned.requestId) ?? [];
      const published = events.get(planned.requestId) ?? [];
      const terminal = published.filter((event) => event.type !== UPLOAD_REJECTED_TYPE);
      const deadLettered = terminal.some((event) => DEAD_LETTER_CODES.includes(event.error?.code ?? ''));
      const collateral =
        hitBy.length +
        (deadLettered ? lostReceives(planned.requestId, journals.values(), DRILL_MAX_RECEIVES) : 0);
      const excused = secondEventExcused(
        terminal.map((event) => JSON.stringify(event)),
        hitBy,
        windows.get(planned.requestId),
      );
      const verdict = await verifyRequest(stack, planned, published, workerLogs, collateral, excused);
      const unproven = proofProblems(planned, sabotaged[i], armed[i] ?? [], metrics);
      if (unproven.length === 0) faults[planned.fault] = (faults[planned.fault] ?? 0) + 1;
      // A fault whose request was hit by a kill aimed at another may not have run its course: it is
      // not counted as injected, and not as a problem either (the report names the hit).
      verdicts.push({ ...verdict, problems: [...verdict.problems, ...(collateral > 0 ? [] : unproven)] });
    }
    for (const [kind, count] of Object.entries(faultProxy.injected())) faults[`proxy ${kind}`] = count;
    const backgroundUnfired = background.map(unfired).filter((p): p is string => p !== undefined);
    return {
      seed: options.seed,
      requests: plan.length,
      workers: options.workers,
      overlapDelivery,
      durationMs: Date.now() - startedAt,
      overlappedTakes: [...journals.values()].reduce((sum, j) => sum + j.overlappedTakes, 0),
      kills: ctx.kills.length,
      faults,
      backgroundUnfired,
      markWindowsMs: markWindowsMs(windows),
      lost: verdicts.filter((v) => v.events === 0).length,
      duplicates: verdicts
        .filter((v) => !v.secondEventInWindow)
        .reduce((sum, v) => sum + Math.max(0, v.events - 1), 0),
      windowDuplicates: verdicts.filter((v) => v.secondEventInWindow).length,
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

/**
 * The short drill of `npm test`: every fault kind once (seed 20261124), 2 workers, printed. `npm test`
 * runs it with overlapped delivery off and on.
 */
export async function runShortDrill(overlapDelivery: boolean): Promise<DrillReport> {
  const report = await runDrill({
    requests: Object.keys(REQUEST_FAULTS).length,
    seed: 20261124,
    workers: 2,
    timeoutMs: 8 * 60_000,
    overlapDelivery,
  });
  console.log(formatReport(report));
  return report;
}

export function formatReport(report: DrillReport): string {
  const lines = [
    `chaos drill: seed ${report.seed}, ${report.requests} requests, ${report.workers} workers, overlapped delivery ${report.overlapDelivery ? 'on' : 'off'}, ${(report.durationMs / 1000).toFixed(0)} s`,
    'faults injected:',
    ...Object.entries(report.faults)
      .sort()
      .map(([kind, count]) => `  ${kind}: ${count}`),
    ...report.verdicts.map(
      (v) =>
        `  ${v.requestId}: ${v.events} event(s), ${v.state} after ${v.attempts ?? 0} attempt(s)${v.errorCode === undefined ? '' : ` ${v.errorCode}`}${v.collateral === 0 ? '' : `, hit by ${v.collateral} kill(s) aimed at another request`}${v.secondEventInWindow ? ', its second event (same body) from a kill inside its marker window' : ''}${v.problems.length === 0 ? '' : ` PROBLEMS: ${v.problems.join('; ')}`}`,
    ),
    ...report.backgroundUnfired.map((line) => `  NOT INJECTED: ${line}`),
    `window for a second event (SNS answered -> marker stored), ${report.markWindowsMs.length} events: p50 ${percentile(report.markWindowsMs, 50)} ms, p99 ${percentile(report.markWindowsMs, 99)} ms, max ${Math.max(...report.markWindowsMs)} ms`,
    `workers killed: ${report.kills}  takes overlapping another request in flight: ${report.overlappedTakes}`,
    `requests: ${report.requests}  lost: ${report.lost}  duplicates: ${report.duplicates}  second events inside the documented window: ${report.windowDuplicates}  with problems: ${report.verdicts.filter((v) => v.problems.length > 0).length}`,
  ];
  return lines.join('\n');
}
