/**
 * The Lambda functions the local stack runs in this process. Interim wiring until dispatch, dead-letter
 * and reconcile land in main: their handlers as exported, configured through the environment. Once they
 * land, dispatch and reconcile are wired with the local launcher in place of Batch.
 */
import type { WorkerLauncher } from '../../contracts/ports.js';
import { handler as deadLetterHandler } from '../../functions/dead-letter/handler.js';
import { handler as dispatchHandler } from '../../functions/dispatch/handler.js';
import type { SqsHandler } from './event-source-poller.js';

export interface LocalFunctions {
  dispatch: SqsHandler;
  deadLetter: SqsHandler;
  /** One run of the scheduled reconcile (scaling self-heal, silent requests). */
  reconcile(): Promise<void>;
}

export function createLocalFunctions(
  _env: Record<string, string>,
  _launcher: WorkerLauncher,
): LocalFunctions {
  return {
    dispatch: dispatchHandler,
    deadLetter: deadLetterHandler,
    reconcile: async () => {},
  };
}
