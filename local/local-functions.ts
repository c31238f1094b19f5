/**
 * The real Lambda handlers' use cases, wired as their handlers wire them (from the environment), with one
 * difference: the worker launcher is the local one, starting child processes instead of Batch jobs.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import type { WorkerLauncher } from '../contracts/ports.js';
import { createDeadLetterDeps } from '../functions/dead-letter/create-deps.js';
import { processDeadLetters } from '../functions/dead-letter/process-dead-letters.js';
import { createDispatchDeps } from '../functions/dispatch/create-deps.js';
import { processIntake } from '../functions/dispatch/process-intake.js';
import { createReconcileDeps } from '../functions/reconcile/create-deps.js';
import { handleReconcileEvent } from '../functions/reconcile/handle-reconcile-event.js';
import type { ScanCursor } from '../functions/reconcile/reconcile.js';
import type { SqsHandler } from './event-source-poller.js';

export interface LocalFunctions {
  dispatch: SqsHandler;
  deadLetter: SqsHandler;
  /** One run of the scheduled reconcile (scaling self-heal, silent requests). */
  reconcile(): Promise<void>;
}

export function createLocalFunctions(env: Record<string, string>, launcher: WorkerLauncher): LocalFunctions {
  const dispatchDeps = { ...createDispatchDeps(env), launcher };
  const deadLetterDeps = createDeadLetterDeps(env);
  const reconcileDeps = { ...createReconcileDeps(env), launcher };
  const cursor: ScanCursor = {};
  return {
    dispatch: (event: SQSEvent, context: Context) => processIntake(dispatchDeps, event, context),
    deadLetter: (event: SQSEvent, context: Context) => processDeadLetters(deadLetterDeps, event, context),
    async reconcile() {
      // As its schedule invokes it in the cloud: the run, its log line and its metrics.
      await handleReconcileEvent(reconcileDeps, { 'detail-type': 'Scheduled Event' }, cursor);
    },
  };
}
