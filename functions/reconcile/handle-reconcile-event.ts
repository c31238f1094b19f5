/** Routes one EventBridge event: the schedule runs reconcile, a Batch job change is recorded. */
import { InternalError } from '../../contracts/errors.js';
import { type ReconcileDeps, type ReconcileReport, reconcile, type ScanCursor } from './reconcile.js';
import { ReconcileEventSchema } from './reconcile-events.js';
import { recordWorkerJobChange } from './record-worker-job.js';

export type ReconcileOutcome =
  | { kind: 'reconciled'; report: ReconcileReport }
  | { kind: 'job-change'; workerFailed: boolean };

export async function handleReconcileEvent(
  deps: ReconcileDeps,
  event: unknown,
  cursor?: ScanCursor,
): Promise<ReconcileOutcome> {
  const parsed = ReconcileEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InternalError(`reconcile got an event it does not handle: ${parsed.error.message}`);
  }
  try {
    if (parsed.data['detail-type'] === 'Batch Job State Change') {
      return { kind: 'job-change', workerFailed: recordWorkerJobChange(deps, parsed.data) };
    }
    const report = await reconcile(deps, cursor);
    deps.logger.info('reconcile run', {
      ...report.scaling,
      runnable: report.census.runnable,
      running: report.census.running,
      scanned: report.scanned,
      capped: report.capped,
      heartbeats_lost: report.heartbeatsLost.length,
    });
    return { kind: 'reconciled', report };
  } finally {
    if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
  }
}
