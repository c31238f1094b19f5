/** Lambda entry point of dead-letter: the work DLQ and the intake DLQ, with partial batch failure reporting. */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDeadLetterDeps } from './create-deps.js';
import type { DeadLetterDeps } from './fail-dead-letter.js';
import { processDeadLetters } from './process-dead-letters.js';

let deps: DeadLetterDeps | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  deps ??= createDeadLetterDeps();
  deps.logger.addContext(context);
  return processDeadLetters(deps, event, context);
};
