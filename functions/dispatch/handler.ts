/** Lambda entry point of dispatch: the intake SQS queue, with partial batch failure reporting. */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDispatchDeps } from './create-deps.js';
import { type IntakeDeps, processIntake } from './process-intake.js';

let deps: IntakeDeps | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  deps ??= createDispatchDeps();
  deps.logger.addContext(context);
  return processIntake(deps, event, context);
};
