/**
 * The hands of the chaos drill: kills a request's worker at an exact point (a call parked by the fault
 * proxy), kills its engine, and sends S3 notifications again. Each returns once the fault happened.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../../local/local-stack.js';
import type { FaultProxy, HeldCall } from '../support/fault-proxy.js';

/** A worker the drill killed, and the request it was aimed at. */
export interface WorkerKill {
  workerId: string;
  target: string;
  signal: NodeJS.Signals;
  /** When the signal was sent (epoch ms, this process's clock, as the fault proxy's journal). */
  at: number;
}

export interface SabotageContext {
  stack: LocalStack;
  proxy: FaultProxy;
  /** Gives up waiting for a condition once this aborts (the drill is over). */
  stop: AbortSignal;
  /** Every worker killed so far: its other request in flight, if any, was hit too (collateral.ts). */
  kills: WorkerKill[];
}

export class SabotageTimeout extends Error {}

export async function until<T>(
  ctx: SabotageContext,
  what: string,
  probe: () => Promise<T | undefined>,
  everyMs = 25,
): Promise<T> {
  while (!ctx.stop.aborted) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new SabotageTimeout(`gave up waiting for ${what}`);
}

/** Whether the process still runs: a zombie (exited, not yet reaped) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the command name, which is in parentheses and may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The worker that holds the request now, from status.json's worker_id, and its pid. */
async function workerOf(ctx: SabotageContext, requestId: string): Promise<{ workerId: string; pid: number }> {
  return until(ctx, `the worker of ${requestId}`, async () => {
    const record = await ctx.stack.statuses.read(requestId);
    const workerId = record?.status.worker_id;
    const pid = workerId === undefined ? undefined : ctx.stack.launcher.workerPids().get(workerId);
    return workerId === undefined || pid === undefined ? undefined : { workerId, pid };
  });
}

/**
 * The live worker that made a held call: the request's worker, if it still runs. A call held after
 * that worker died came from another path (dead-letter or reconcile finishing the request), which
 * happens when a kill aimed at another request used up this one's receives.
 */
async function holderOf(ctx: SabotageContext, requestId: string): Promise<{ workerId: string; pid: number }> {
  const record = await ctx.stack.statuses.read(requestId);
  const workerId = record?.status.worker_id;
  const pid = workerId === undefined ? undefined : ctx.stack.launcher.workerPids().get(workerId);
  if (workerId === undefined || pid === undefined || !alive(pid)) {
    throw new SabotageTimeout(`the held call of ${requestId} came from no live worker`);
  }
  return { workerId, pid };
}

const TERMINAL = new Set(['succeeded', 'failed', 'rejected']);

/** Direct children of a process, from /proc (Linux). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Sends `signal` to the worker once the parked call appears, waits for the worker to exit, then drops
 * the call. SIGTERM must make the worker abort the parked call itself: its connection has to close
 * while the worker still runs, or the worker only let go of it by exiting.
 */
export async function killAtHeldCall(
  ctx: SabotageContext,
  requestId: string,
  key: RegExp,
  signal: NodeJS.Signals,
  options: { beforeTerminal?: boolean } = {},
): Promise<void> {
  // With `beforeTerminal` the call comes before the request's outcome (a frame, an input): once the
  // request has one, that call will never come.
  let polls = 0;
  const held: HeldCall | 'ended' = await until(ctx, `a held call on ${key}`, async () => {
    const call = ctx.proxy.held().find((c) => c.key !== undefined && key.test(c.key));
    if (call !== undefined || options.beforeTerminal !== true || ++polls % 20 !== 0) return call;
    const state = (await ctx.stack.statuses.read(requestId))?.status.state;
    return state !== undefined && TERMINAL.has(state) ? 'ended' : undefined;
  });
  if (held === 'ended') throw new SabotageTimeout(`${requestId} ended before a held call on ${key}`);
  const { workerId, pid } = await holderOf(ctx, requestId);
  let abortedWhileAlive: boolean | undefined;
  void held.abandoned.then(() => {
    abortedWhileAlive = alive(pid);
  });
  process.kill(pid, signal);
  ctx.kills.push({ workerId, target: requestId, signal, at: Date.now() });
  await until(ctx, `worker ${pid} to exit`, async () => (alive(pid) ? undefined : true));
  held.release();
  if (signal === 'SIGTERM') {
    await until(ctx, `the held call on ${key} to close`, async () => abortedWhileAlive);
    if (!abortedWhileAlive)
      throw new Error(`worker ${pid} did not abort its call on ${key}; it exited holding it`);
  }
}

/** SIGKILLs the request's engine (the preview's ffmpeg) while it renders, or its worker with `worker`. */
export async function killDuringRender(
  ctx: SabotageContext,
  requestId: string,
  target: 'engine' | 'worker',
): Promise<void> {
  const { workerId, pid } = await workerOf(ctx, requestId);
  // /proc is cheap to read, so poll it tightly: a small render lasts well under a second on a fast host.
  // The render's ffmpeg reads the request's inputs from its job dir, which names the request: a worker
  // that overlaps delivery may run another request's video encode beside it.
  const ffmpeg = await until(ctx, `the engine of ${requestId}`, async () => {
    for (let i = 0; i < 20; i++) {
      const child = childPids(pid).find((candidate) => {
        const command = commandLine(candidate);
        return command.includes('ffmpeg') && command.includes(requestId) && command.includes('minterpolate');
      });
      if (child !== undefined) return child;
      await sleep(2);
    }
    return undefined;
  });
  process.kill(target === 'engine' ? ffmpeg : pid, 'SIGKILL');
  if (target === 'worker') ctx.kills.push({ workerId, target: requestId, signal: 'SIGKILL', at: Date.now() });
}
