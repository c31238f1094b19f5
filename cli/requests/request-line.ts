/**
 * One line per finished request for `heritage local up`: the figures an operator reads on the
 * dashboard (state, stage times, GPU-held time), from the request's completion event, which carries
 * the same numbers the worker reported as metrics.
 */
import type { CompletionEvent } from '../../contracts/event.js';
import { formatSeconds } from '../output.js';

export function formatRequestLine(event: CompletionEvent): string {
  const parts = [`request ${event.request_id} ${event.status}`];
  if (event.error !== null) parts.push(event.error.code);
  const stages = event.timings_ms;
  if (stages !== null) {
    parts.push(
      `queued ${formatSeconds(stages.queued)}, provision ${formatSeconds(stages.provision)}, ` +
        `inference ${formatSeconds(stages.inference)}, upload ${formatSeconds(stages.upload)}, ` +
        `total ${formatSeconds(stages.total)}`,
    );
  }
  if (event.gpu_seconds !== null) parts.push(`GPU-held ${event.gpu_seconds.toFixed(1)} s`);
  return parts.join('  ');
}
