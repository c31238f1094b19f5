/** One batch from the work or intake DLQ: each letter on its own, with partial batch failure reporting. */
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { inboxSegment } from '../../contracts/keys.js';
import { readS3Event } from '../dispatch/read-s3-event.js';
import { type DeadLetterDeps, deadLetterRequestId, failDeadLetter } from './fail-dead-letter.js';
import { failIntakeDeadLetter } from './fail-intake-dead-letter.js';

export async function processDeadLetters(
  deps: DeadLetterDeps,
  event: SQSEvent,
  context?: Context,
): Promise<SQSBatchResponse> {
  try {
    return await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const letter = { body: record.body, deliveryId: record.messageId, attemptId: randomUUID() };
        // The function drains both DLQs: S3 events from intake, work messages (or poison) from work.
        const intake = readS3Event(record.body);
        try {
          if (intake.kind === 'objects') await failIntakeDeadLetter(deps, letter, intake.objects);
          else if (intake.kind === 'test-event') deps.logger.info('ignoring the S3 test event');
          else await failDeadLetter(deps, letter);
        } catch (error) {
          const requestIds =
            intake.kind === 'objects'
              ? intake.objects.map((object) => inboxSegment(object.key))
              : [deadLetterRequestId(record.body)];
          deps.logger.warn('dead letter not handled; it will be retried', {
            request_id: requestIds.filter((id) => id !== undefined).join(',') || undefined,
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
