/**
 * Dispatch burst: N manifests land at once; dispatch handles them as Lambda would, through the intake
 * queue of the local stack (fauxqs behind the conditional-write gateway). A stand-in for the Lambda
 * event source mapping polls the intake queue with `concurrency` pollers (the reserved concurrency),
 * hands batches of 10 to the handler and deletes what it acknowledged. AWS Batch is aws-sdk-client-mock
 * with jobs that stay live. The run fails its own check if any request is lost, claimed twice, or if
 * SubmitJob was called more than maxWorkers times.
 */
import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { BatchWorkerLauncher } from '../adapters/aws/batch-worker-launcher.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../adapters/aws/sns-event-publisher.js';
import { SqsWorkQueue } from '../adapters/aws/sqs-work-queue.js';
import { ObjectStatusStore } from '../contracts/lifecycle/status-store.js';
import type { WorkQueue } from '../contracts/ports.js';
import { WorkMessageSchema } from '../contracts/work-message.js';
import { processIntake } from '../functions/dispatch/process-intake.js';
import { localAwsClients } from '../local/aws-clients.js';
import { startLocalAws } from '../local/local-aws.js';
import { fakeBatch } from '../local/testkit/batch-fake.js';
import { makeImage } from '../local/testkit/images.js';

export interface DispatchBurstOptions {
  requests?: number;
  /** Pollers, like the dispatch function's reserved concurrency. */
  concurrency?: number;
  maxWorkers?: number;
}

export interface DispatchBurstResult {
  requests: number;
  concurrency: number;
  maxWorkers: number;
  accepted: number;
  seconds: number;
  perSecond: number;
  /** Per record: from the batch reaching the handler to that request's work message being sent. */
  p50Ms: number;
  p99Ms: number;
  invocations: number;
  submitJobCalls: number;
  workersSubmitted: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function inParallel<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await run(item);
      }
    }),
  );
}

function s3Notification(bucket: string, key: string): string {
  return JSON.stringify({
    Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } }],
  });
}

async function drainWork(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return ids;
    for (const message of messages) {
      ids.push(WorkMessageSchema.parse(JSON.parse(message.Body ?? '')).request_id);
    }
  }
}

export async function dispatchBurst(options: DispatchBurstOptions = {}): Promise<DispatchBurstResult> {
  const requests = options.requests ?? 500;
  const concurrency = options.concurrency ?? 5;
  const maxWorkers = options.maxWorkers ?? 20;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const aws = await startLocalAws();
  const clients = localAwsClients(aws.endpoint);
  const batch = fakeBatch();
  try {
    const objects = new S3ObjectStore(clients.s3, aws.bucket);
    const [start, end] = await Promise.all([makeImage(832, 480, 'png'), makeImage(832, 480, 'png', 60)]);
    const ids = Array.from({ length: requests }, (_, i) => `burst-${String(i).padStart(4, '0')}`);
    await inParallel(ids, 16, async (id) => {
      await objects.put(`inbox/${id}/start.png`, start);
      await objects.put(`inbox/${id}/end.png`, end);
      await objects.put(`inbox/${id}/manifest.json`, JSON.stringify({ positive_prompt: id }));
    });

    // What S3 does on the manifests' creation: one notification each on the intake queue.
    for (let i = 0; i < ids.length; i += 10) {
      await clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: aws.intakeQueueUrl,
          Entries: ids.slice(i, i + 10).map((id, n) => ({
            Id: String(n),
            MessageBody: s3Notification(aws.bucket, `inbox/${id}/manifest.json`),
          })),
        }),
      );
    }

    const work = new SqsWorkQueue(clients.sqs, aws.workQueueUrl);
    const latencies: number[] = [];
    const batchStarted = new Map<string, number>();
    const timedWork: WorkQueue = Object.assign(Object.create(work) as WorkQueue, {
      async send(body: string) {
        await work.send(body);
        const id = (JSON.parse(body) as { request_id: string }).request_id;
        latencies.push(performance.now() - (batchStarted.get(id) ?? performance.now()));
      },
    });
    const logger = new Logger({ serviceName: 'heritage-bench', logLevel: 'WARN' });
    const deps = {
      bucket: aws.bucket,
      objects,
      statuses: new ObjectStatusStore(objects),
      workQueue: timedWork,
      events: new SnsEventPublisher(clients.sns, aws.topicArn),
      launcher: new BatchWorkerLauncher({
        batch: batch.client,
        jobQueue: 'heritage-workers',
        jobDefinition: 'heritage-worker',
      }),
      maxWorkers,
      imageWaitReceives: 3,
      leaseMs: 16 * 60 * 1000,
      logger,
      metrics: new Metrics({ namespace: 'HeritageBench', serviceName: 'heritage-bench', logger }),
      now: () => new Date(),
    };

    let invocations = 0;
    let idle = 0;
    const began = performance.now();
    // The event source mapping stand-in: pollers until the intake queue stays empty.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (idle < concurrency * 3) {
          const out = await clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: aws.intakeQueueUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 30,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          );
          const messages = out.Messages ?? [];
          if (messages.length === 0) {
            idle += 1;
            continue;
          }
          idle = 0;
          const records = messages.map(
            (message) =>
              ({
                messageId: message.MessageId ?? '',
                receiptHandle: message.ReceiptHandle ?? '',
                body: message.Body ?? '',
                attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1' },
                messageAttributes: {},
                md5OfBody: '',
                eventSource: 'aws:sqs',
                eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:heritage-intake',
                awsRegion: 'us-east-1',
              }) as SQSRecord,
          );
          const now = performance.now();
          for (const record of records) {
            const id = /inbox\/([^/]+)\//.exec(record.body)?.[1];
            if (id !== undefined) batchStarted.set(id, now);
          }
          invocations += 1;
          const response = await processIntake(deps, { Records: records } satisfies SQSEvent);
          const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
          const done = messages.filter((message) => !failed.has(message.MessageId ?? ''));
          if (done.length > 0) {
            await clients.sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: aws.intakeQueueUrl,
                Entries: done.map((message, n) => ({
                  Id: String(n),
                  ReceiptHandle: message.ReceiptHandle ?? '',
                })),
              }),
            );
          }
        }
      }),
    );
    const seconds = (performance.now() - began) / 1000;

    // The benchmark's own check: every manifest claimed once and enqueued once, SubmitJob bounded.
    const enqueued = await drainWork(clients.sqs, aws.workQueueUrl);
    const unique = new Set(enqueued);
    const missing = ids.filter((id) => !unique.has(id));
    const statuses = new ObjectStatusStore(objects);
    const notQueued: string[] = [];
    await inParallel(ids, 16, async (id) => {
      const status = (await statuses.read(id))?.status;
      if (status?.state !== 'queued' || status.enqueued_at === undefined) notQueued.push(id);
    });
    const submitJobCalls = batch.submitted.length;
    const problems = [
      missing.length > 0
        ? `${missing.length} requests never enqueued (e.g. ${missing.slice(0, 3).join(', ')})`
        : '',
      enqueued.length !== unique.size ? `${enqueued.length - unique.size} duplicate work messages` : '',
      notQueued.length > 0 ? `${notQueued.length} statuses not queued+enqueued` : '',
      submitJobCalls > maxWorkers ? `${submitJobCalls} SubmitJob calls > maxWorkers ${maxWorkers}` : '',
    ].filter((problem) => problem !== '');
    if (problems.length > 0) throw new Error(`dispatch burst check failed: ${problems.join('; ')}`);

    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      requests,
      concurrency,
      maxWorkers,
      accepted: unique.size,
      seconds,
      perSecond: requests / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      invocations,
      submitJobCalls,
      workersSubmitted: batch.submitted.reduce((sum, input) => sum + (input.arrayProperties?.size ?? 1), 0),
    };
  } finally {
    batch.mock.restore();
    for (const client of Object.values(clients)) client.destroy();
    await aws.stop();
  }
}

export async function runDispatchBurst(): Promise<void> {
  const result = await dispatchBurst();
  console.log(
    [
      `dispatch burst: ${result.requests} manifests, ${result.concurrency} concurrent invocations, maxWorkers ${result.maxWorkers}`,
      `  accepted ${result.accepted}/${result.requests}, none lost, none twice`,
      `  ${result.seconds.toFixed(2)} s, ${result.perSecond.toFixed(1)} manifests/s, ${result.invocations} invocations`,
      `  per record (batch handed over -> work message sent): p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`,
      `  SubmitJob calls ${result.submitJobCalls} (<= maxWorkers ${result.maxWorkers}), workers submitted ${result.workersSubmitted}`,
    ].join('\n'),
  );
}
