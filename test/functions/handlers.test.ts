import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../contracts/errors.js';
import { loadDeadLetterConfig } from '../../functions/dead-letter/config.js';
import { loadDispatchConfig } from '../../functions/dispatch/config.js';
import { loadReconcileConfig } from '../../functions/reconcile/config.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { drainQueue } from '../../local/testkit/queues.js';
import { putRequest } from '../../local/testkit/requests.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { intakeRecord, readEventFixture, sqsEvent } from '../support/intake-events.js';

const context = { functionName: 'heritage-test', awsRequestId: 'test-invocation' } as Context;

describe('function configuration', () => {
  it('names every missing or invalid variable and fails fast', () => {
    expect(() => loadDispatchConfig({ MAX_WORKERS: 'many' })).toThrow(ConfigInvalidError);
    expect(() => loadDispatchConfig({ MAX_WORKERS: 'many' })).toThrow(
      /REQUEST_BUCKET.*WORK_QUEUE_URL.*COMPLETIONS_TOPIC_ARN.*JOB_QUEUE.*JOB_DEFINITION.*MAX_WORKERS/,
    );
    expect(() => loadDeadLetterConfig({ REQUEST_BUCKET: 'b' })).toThrow(/COMPLETIONS_TOPIC_ARN/);
    expect(() => loadReconcileConfig({})).toThrow(/REQUEST_BUCKET/);
  });
});

describe('Lambda entry points wired from the environment', () => {
  let emulator: Emulator;
  let batch: BatchFake;

  beforeAll(async () => {
    emulator = await startEmulator();
    batch = fakeBatch();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_REGION: emulator.region,
      AWS_ACCESS_KEY_ID: 'heritage-local',
      AWS_SECRET_ACCESS_KEY: 'heritage-local',
      REQUEST_BUCKET: emulator.bucket,
      WORK_QUEUE_URL: emulator.workQueueUrl,
      COMPLETIONS_TOPIC_ARN: emulator.topicArn,
      JOB_QUEUE: 'heritage-workers',
      JOB_DEFINITION: 'heritage-worker',
      MAX_WORKERS: '2',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
  });

  afterAll(async () => {
    batch.mock.restore();
    await emulator.stop();
  });

  it('dispatch handler accepts a request end to end', async () => {
    // Prepare
    const { handler } = await import('../../functions/dispatch/handler.js');
    const key = await putRequest(emulator.objects, 'entry-1');

    // Act
    const response = await handler(sqsEvent(intakeRecord(key)), context);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await drainQueue(emulator.sqs, emulator.workQueueUrl)).toHaveLength(1);
    expect(batch.submitted.map((input) => input.jobQueue)).toEqual(['heritage-workers']);
  });

  it('reconcile handler runs on the schedule', async () => {
    // Prepare
    const { handler } = await import('../../functions/reconcile/handler.js');

    // Act
    const outcome = await handler(readEventFixture('scheduled.json'), context);

    // Assess
    expect(outcome.kind).toBe('reconciled');
  });

  it('dead-letter handler acknowledges an empty batch', async () => {
    // Prepare
    const { handler } = await import('../../functions/dead-letter/handler.js');

    // Act
    const response = await handler(sqsEvent(), context);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
  });
});
