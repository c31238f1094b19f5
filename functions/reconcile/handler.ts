/** Lambda entry point of reconcile: the one-minute schedule and Batch "Job State Change" events. */
import type { Context } from 'aws-lambda';
import { createReconcileDeps } from './create-deps.js';
import { handleReconcileEvent, type ReconcileOutcome } from './handle-reconcile-event.js';
import type { ReconcileDeps, ScanCursor } from './reconcile.js';

let deps: ReconcileDeps | undefined;
const cursor: ScanCursor = {};

export const handler = async (event: unknown, context: Context): Promise<ReconcileOutcome> => {
  deps ??= createReconcileDeps();
  deps.logger.addContext(context);
  return handleReconcileEvent(deps, event, cursor);
};
