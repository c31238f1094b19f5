/**
 * The figures of one attempt at a request, as the worker's metrics report them (contracts/ports.ts,
 * RequestMetrics), and the one definition of GPU-held time they and result.json share.
 */
import type { AttemptReport } from '../../../contracts/ports.js';
import type { Result } from '../../../contracts/result.js';

/**
 * GPU-held seconds of an attempt that took its message at `takenAt` (epoch ms): the worker renders one
 * request at a time, so its GPU serves nobody else from then until it is handed over to the next
 * request (`releasedAt`), or, for an attempt that never got that far, until its outcome is decided,
 * which is now. Summed over a worker's requests they give its busy time. Whole milliseconds.
 */
export function gpuHeldSeconds(takenAt: number, releasedAt: number = Date.now()): number {
  return Math.max(0, Math.round(releasedAt - takenAt)) / 1000;
}

/** The provisioning the worker did before its first request, reported with that request only. */
export function provisionOf(provisionMs: number | undefined): Pick<AttemptReport, 'provisionMs'> {
  return provisionMs === undefined ? {} : { provisionMs: Math.round(provisionMs) };
}

/** The report of the attempt that moved a request to `succeeded`, from its committed result.json. */
export function succeededReport(result: Result, provisionMs: number | undefined): AttemptReport {
  const timings = result.timings_ms;
  const stage = (name: string): number => Math.round(timings[name] ?? 0);
  return {
    requestId: result.request_id,
    outcome: 'succeeded',
    gpuSeconds: result.gpu_seconds,
    stagesMs: {
      queued: stage('queued'),
      inference: stage('inference'),
      upload: stage('upload'),
      ...(timings.video_encode === undefined ? {} : { videoMs: stage('video_encode') }),
      total: stage('total'),
    },
    frames: result.frames.count,
    ...provisionOf(provisionMs),
  };
}
