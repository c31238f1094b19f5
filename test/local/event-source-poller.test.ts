import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSourcePoller, type SqsHandler } from '../../local/event-source-poller.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

describe('local event source poller', () => {
  let aws: Emulator;
  let queues = 0;

  beforeAll(async () => {
    aws = await startEmulator();
  });
  afterAll(async () => {
    await aws.stop();
  });

  async function freshQueue(): Promise<{ url: string; arn: string }> {
    queues += 1;
    const created = await aws.sqs.send(
      new CreateQueueCommand({ QueueName: `poller-${queues}`, Attributes: { VisibilityTimeout: '1' } }),
    );
    const url = created.QueueUrl ?? '';
    const attributes = await aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return { url, arn: attributes.Attributes?.QueueArn ?? '' };
  }

  async function sendBodies(url: string, bodies: string[]): Promise<void> {
    await aws.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
  }

  function poller(url: string, handler: SqsHandler): EventSourcePoller {
    return new EventSourcePoller({
      sqs: aws.sqs,
      queueUrl: url,
      region: aws.region,
      functionName: 'test-function',
      handler,
      waitSeconds: 0,
    });
  }

  /** Polls until a batch arrives: redelivery waits for the 1 s visibility timeout. */
  async function nextBatch(p: EventSourcePoller, events: SQSEvent[]): Promise<SQSEvent> {
    const before = events.length;
    for (let i = 0; i < 100 && events.length === before; i++) {
      await p.pollOnce();
      if (events.length === before) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const batch = events[before];
    if (batch === undefined) throw new Error('no batch arrived');
    return batch;
  }

  it('hands the handler the SQS event Lambda builds', async () => {
    // Prepare
    const queue = await freshQueue();
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'greeting' } },
      }),
    );
    const events: SQSEvent[] = [];
    const p = poller(queue.url, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    });

    // Act
    const event = await nextBatch(p, events);

    // Assess
    const record = event.Records[0];
    expect(event.Records).toHaveLength(1);
    expect(record).toMatchObject({
      body: '{"hello":"world"}',
      md5OfBody: createHash('md5').update('{"hello":"world"}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: aws.region,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'greeting' } },
    });
    expect(record?.messageId).not.toBe('');
    expect(record?.receiptHandle).not.toBe('');
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(0);
  });

  it('deletes the records that succeeded and lets the reported failures come back', async () => {
    // Prepare
    const queue = await freshQueue();
    await sendBodies(queue.url, ['ok-1', 'fail', 'ok-2']);
    const events: SQSEvent[] = [];
    const p = poller(queue.url, async (event): Promise<SQSBatchResponse> => {
      events.push(event);
      const failures = event.Records.filter(
        (r) => r.body === 'fail' && r.attributes.ApproximateReceiveCount === '1',
      );
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });

    // Act
    const bodies: string[] = [];
    while (bodies.length < 3) bodies.push(...(await nextBatch(p, events)).Records.map((r) => r.body));
    const retry = await nextBatch(p, events);

    // Assess
    expect(bodies.sort()).toEqual(['fail', 'ok-1', 'ok-2']);
    expect(retry.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([['fail', '2']]);
    const backlog = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(backlog.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('keeps the whole batch when the handler throws', async () => {
    // Prepare
    const queue = await freshQueue();
    await sendBodies(queue.url, ['a']);
    const events: SQSEvent[] = [];
    const p = poller(queue.url, async (event) => {
      events.push(event);
      if (events.length === 1) throw new Error('handler crashed');
      return { batchItemFailures: [] };
    });

    // Act
    const first = await nextBatch(p, events);
    const second = await nextBatch(p, events);

    // Assess
    expect(first.Records[0]?.body).toBe('a');
    expect(second.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([['a', '2']]);
  });

  it('keeps the whole batch when a reported failure names no record of the batch', async () => {
    // Prepare
    const queue = await freshQueue();
    await sendBodies(queue.url, ['b']);
    const events: SQSEvent[] = [];
    const p = poller(queue.url, async (event) => {
      events.push(event);
      return { batchItemFailures: events.length === 1 ? [{ itemIdentifier: '' }] : [] };
    });

    // Act
    await nextBatch(p, events);
    const second = await nextBatch(p, events);

    // Assess
    expect(second.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([['b', '2']]);
  });
});
