/** One batch from the work DLQ: each letter failed on its own, with partial batch failure reporting. */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type DeadLetterDeps, failDeadLetter } from './fail-dead-letter.js';

export async function processDeadLetters(
  deps: DeadLetterDeps,
  event: SQSEvent,
  context?: Context,
): Promise<SQSBatchResponse> {
  try {
    return await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          await failDeadLetter(deps, { body: record.body, deliveryId: record.messageId });
        } catch (error) {
          deps.logger.warn('dead letter not handled; it will be retried', {
            message_id: record.messageId,
            error,
          });
          throw error;
        }
      },
      new BatchProcessor(EventType.SQS),
      { throwOnFullBatchFailure: false, ...(context === undefined ? {} : { context }) },
    );
  } finally {
    if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
  }
}
