/** Scaling: start workers while the work backlog exceeds the live workers, never past maxWorkers. */
import type { WorkerLauncher, WorkQueue } from '../../contracts/ports.js';

export interface ScaleWorkersDeps {
  workQueue: WorkQueue;
  launcher: WorkerLauncher;
  maxWorkers: number;
}

export interface ScaleDecision {
  backlog: number;
  live: number;
  launched: number;
}

/**
 * `live` is the count of live workers when the caller has just taken it. `maxNew` caps what one call may add; dispatch passes the number of requests it just accepted, which
 * bounds over-submission when invocations race (docs/architecture.md, "Dispatch and scaling").
 */
export async function scaleWorkers(
  deps: ScaleWorkersDeps,
  options: { maxNew?: number; live?: number } = {},
): Promise<ScaleDecision> {
  const { visible, inFlight } = await deps.workQueue.backlog();
  const backlog = visible + inFlight;
  if (backlog === 0) return { backlog, live: options.live ?? 0, launched: 0 };
  const live = options.live ?? (await deps.launcher.liveWorkers());
  const wanted = Math.min(backlog, deps.maxWorkers) - live;
  const count = Math.min(wanted, options.maxNew ?? Number.POSITIVE_INFINITY);
  const launched = count > 0 ? await deps.launcher.launch(count) : 0;
  return { backlog, live, launched };
}
