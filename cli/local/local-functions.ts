/**
 * Loads the real Lambda handlers into this process, configured as Lambda configures them: through the
 * environment. Only the worker launcher differs from the cloud: local child processes, not Batch jobs.
 */
import type { WorkerLauncher } from '../../contracts/ports.js';
import type { SqsHandler } from './event-source-poller.js';

export interface LocalFunctions {
  dispatch: SqsHandler;
  deadLetter: SqsHandler;
}

export async function loadLocalFunctions(
  env: Record<string, string>,
  _launcher: WorkerLauncher,
): Promise<LocalFunctions> {
  // The handlers read their configuration from the environment once, as in Lambda.
  Object.assign(process.env, env);
  const dispatch = await import('../../functions/dispatch/handler.js');
  const deadLetter = await import('../../functions/dead-letter/handler.js');
  return { dispatch: dispatch.handler, deadLetter: deadLetter.handler };
}
