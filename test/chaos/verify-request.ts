/**
 * The promises of docs/reliability.md, checked for one request after a drill: exactly one terminal event, a
 * status that agrees with it, and outputs that match the outcome. An upload over its id in the
 * meantime gets its own `heritage.upload.rejected` event, which is not the request's.
 */
import sharp from 'sharp';
import { type CompletionEvent, UPLOAD_REJECTED_TYPE } from '../../contracts/event.js';
import { requestKeys } from '../../contracts/keys.js';
import { ResultSchema } from '../../contracts/result.js';
import type { LocalStack } from '../../local/local-stack.js';
import { type PlannedRequest, REQUEST_FAULTS } from './chaos-plan.js';

export interface RequestVerdict extends PlannedRequest {
  events: number;
  state: string | undefined;
  errorCode: string | undefined;
  attempts: number | undefined;
  /** Kills aimed at another request that ended an attempt of this one (collateral.ts). */
  collateral: number;
  /** Its second event is the documented window's (collateral.ts, secondEventExcused). */
  secondEventInWindow: boolean;
  /** Empty when every promise held. */
  problems: string[];
}

/** How a request ends when kills, its own and others', used up its receives: dead-letter or reconcile. */
const CRASH_CODES = ['WORKER_CRASHED', 'HEARTBEAT_LOST', 'RETRIES_EXHAUSTED'];

async function checkOutputs(stack: LocalStack, event: CompletionEvent, problems: string[]): Promise<void> {
  const keys = requestKeys(event.request_id);
  const stored = await stack.objects.get(keys.result);
  if (event.status !== 'succeeded') {
    if (stored !== undefined) problems.push(`a ${event.status} request has result.json`);
    return;
  }
  if (stored === undefined) {
    problems.push('succeeded without result.json');
    return;
  }
  const result = ResultSchema.safeParse(JSON.parse(new TextDecoder().decode(stored.body)));
  if (!result.success) problems.push('result.json does not match its schema');
  const count = event.frames?.count ?? 0;
  for (let n = 1; n <= count; n++) {
    const frame = await stack.objects.get(keys.frame(n));
    if (frame === undefined) {
      problems.push(`frame ${n} of ${count} is missing`);
      continue;
    }
    const meta = await sharp(frame.body)
      .metadata()
      .catch(() => undefined);
    if (
      meta?.format !== 'png' ||
      meta.width !== event.frames?.width ||
      meta.height !== event.frames?.height
    ) {
      problems.push(`frame ${n} does not decode as a ${event.frames?.width}x${event.frames?.height} PNG`);
    }
  }
}

export async function verifyRequest(
  stack: LocalStack,
  planned: PlannedRequest,
  published: CompletionEvent[],
  workerLogs: string[],
  collateral = 0,
  secondEventInWindow = false,
): Promise<RequestVerdict> {
  const problems: string[] = [];
  const record = await stack.statuses.read(planned.requestId);
  const state = record?.status.state;
  const events = published.filter((event) => event.type !== UPLOAD_REJECTED_TYPE);
  const reused = published.filter((event) => event.type === UPLOAD_REJECTED_TYPE);
  const expectedReused: number =
    (REQUEST_FAULTS[planned.fault] as { reusedUploads?: number }).reusedUploads ?? 0;
  if (reused.length !== expectedReused) {
    problems.push(`${reused.length} upload rejections, expected ${expectedReused}`);
  }
  if (reused.some((event) => event.error?.code !== 'REQUEST_ID_REUSED')) {
    problems.push('an upload rejection without REQUEST_ID_REUSED');
  }
  const [event] = events;
  if (events.length === 0) problems.push('lost: no terminal event');
  if (events.length > 1 && !secondEventInWindow) problems.push(`duplicate: ${events.length} terminal events`);
  if (event !== undefined) {
    if (state !== event.status) problems.push(`status ${state} disagrees with the ${event.status} event`);
    const expected: {
      expect: string;
      code?: string;
      orCode?: string;
      minAttempts?: number;
      maxAttempts?: number;
      logged?: string;
    } = REQUEST_FAULTS[planned.fault];
    const { logged } = expected;
    // A kill aimed at another request also ended one of this one's attempts: its own fault may not
    // have run its course, and its receives may have run out. What it must still keep: one event, a
    // status that agrees, outputs that match, and an outcome that is either the planned one or a crash.
    const hit = collateral > 0;
    const crashed = hit && event.status === 'failed' && CRASH_CODES.includes(event.error?.code ?? '');
    if (
      !hit &&
      logged !== undefined &&
      !workerLogs.some((line) => line.includes(planned.requestId) && line.includes(logged))
    ) {
      problems.push(`no worker logged ${logged} for it`);
    }
    const attempts = record?.status.attempt ?? 0;
    if (!hit && attempts < (expected.minAttempts ?? 0)) {
      problems.push(`taken ${attempts} time(s); the fault should have made it ${expected.minAttempts}`);
    }
    if (attempts > (expected.maxAttempts ?? Number.POSITIVE_INFINITY) + collateral) {
      problems.push(`taken ${attempts} time(s); at most ${expected.maxAttempts} may have rendered it`);
    }
    if (!crashed && event.status !== expected.expect) {
      problems.push(`ended ${event.status}, expected ${expected.expect}`);
    }
    const code = event.error?.code;
    if (!crashed && expected.code !== undefined && code !== expected.code && code !== expected.orCode) {
      problems.push(`error ${event.error?.code}, expected ${expected.code}`);
    }
    await checkOutputs(stack, event, problems);
  }
  return {
    ...planned,
    events: events.length,
    state,
    errorCode: event?.error?.code,
    attempts: record?.status.attempt,
    collateral,
    secondEventInWindow,
    problems,
  };
}
