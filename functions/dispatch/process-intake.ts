/** One intake SQS batch: every record through dispatchRequest, then one scaling decision. */
import { randomUUID } from 'node:crypto';

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { inboxSegment } from '../../contracts/keys.js';
import { METRIC_NAMES } from '../../contracts/metrics.js';
import type { WorkerLauncher } from '../../contracts/ports.js';
import { addMetric, countMetric } from '../observability.js';
import { type DispatchDeps, type DispatchResult, dispatchRequest } from './dispatch-request.js';
import { readS3Event } from './read-s3-event.js';
import { scaleWorkers } from './scale-workers.js';

export interface IntakeDeps extends DispatchDeps {
  launcher: WorkerLauncher;
  maxWorkers: number;
}

async function dispatchRecord(deps: IntakeDeps, record: SQSRecord): Promise<DispatchResult[]> {
  const body = readS3Event(record.body);
  if (body.kind === 'test-event') {
    deps.logger.info('ignoring the S3 test event', { message_id: record.messageId });
    return [];
  }
  if (body.kind === 'unreadable') {
    // A retry cannot make it readable: acknowledge, but loudly.
    deps.logger.error('intake message is not an S3 event', {
      message_id: record.messageId,
      reason: body.reason,
    });
    countMetric(deps.metrics, METRIC_NAMES.intakeUnreadable);
    return [];
  }
  const results: DispatchResult[] = [];
  for (const object of body.objects) {
    try {
      results.push(
        await dispatchRequest(deps, {
          ...object,
          deliveryId: record.messageId,
          attemptId: randomUUID(),
          receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
        }),
      );
    } catch (error) {
      deps.logger.warn('dispatch failed; the record will be retried', {
        request_id: inboxSegment(object.key),
        key: object.key,
        message_id: record.messageId,
        error,
      });
      countMetric(deps.metrics, METRIC_NAMES.dispatchRetries);
      throw error;
    }
  }
  return results;
}

/** Scaling never fails the batch: the work messages are out, and reconcile heals within a minute. */
async function scaleAfter(deps: IntakeDeps, accepted: number): Promise<void> {
  if (accepted === 0) return;
  try {
    const decision = await scaleWorkers(deps, { maxNew: accepted });
    if (decision.launched > 0) {
      deps.logger.info('workers launched', { ...decision });
      addMetric(deps.metrics, METRIC_NAMES.workersLaunched, decision.launched);
    }
  } catch (error) {
    deps.logger.error('scaling failed; reconcile will retry', { error });
    countMetric(deps.metrics, METRIC_NAMES.scalingFailures);
  }
}

export async function processIntake(
  deps: IntakeDeps,
  event: SQSEvent,
  context?: Context,
): Promise<SQSBatchResponse> {
  let accepted = 0;
  const processor = new BatchProcessor(EventType.SQS);
  try {
    const response = await processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const results = await dispatchRecord(deps, record);
        accepted += results.filter((result) => result === 'accepted').length;
      },
      processor,
      { throwOnFullBatchFailure: false, ...(context === undefined ? {} : { context }) },
    );
    await scaleAfter(deps, accepted);
    return response;
  } finally {
    if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
  }
}
