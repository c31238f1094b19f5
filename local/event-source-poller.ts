/**
 * A local Lambda SQS event source mapping: receives batches of up to 10, hands them to a handler as the
 * SQSEvent Lambda builds, deletes what succeeded and leaves the partial batch failures (or the whole
 * batch, when the handler throws) to reappear after the visibility timeout, as Lambda does with
 * ReportBatchItemFailures on.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { z } from 'zod';

/** A Lambda handler for SQS; with ReportBatchItemFailures it answers `{ batchItemFailures }`. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

const BatchResponseSchema = z
  .object({ batchItemFailures: z.array(z.object({ itemIdentifier: z.unknown() })) })
  .partial()
  .nullish();

export interface EventSourcePollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  region: string;
  handler: SqsHandler;
  /** Names the function in the Lambda context. */
  functionName: string;
  batchSize?: number;
  waitSeconds?: number;
  /** What a handler has to finish a batch in, as in the function's timeout. */
  timeoutSeconds?: number;
  onError?: (error: unknown) => void;
}

export interface BatchOutcome {
  received: number;
  deleted: number;
  failed: number;
}

function toMessageAttributes(message: Message): SQSMessageAttributes {
  const attributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    attributes[name] = {
      dataType: value.DataType ?? 'String',
      stringListValues: [],
      binaryListValues: [],
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(value.BinaryValue === undefined
        ? {}
        : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
    };
  }
  return attributes;
}

/** The record Lambda builds from one received message. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const body = message.Body ?? '';
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'HERITAGELOCAL',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: toMessageAttributes(message),
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function lambdaContext(functionName: string, region: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const unsupported = (): never => {
    throw new Error('callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

export class EventSourcePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private queueArn: string | undefined;

  constructor(private readonly options: EventSourcePollerOptions) {}

  /** Receives one batch (long-polling up to waitSeconds) and runs the handler on it. */
  async pollOnce(): Promise<BatchOutcome> {
    const { sqs, queueUrl, region, handler } = this.options;
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: this.options.batchSize ?? 10,
        WaitTimeSeconds: this.options.waitSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return { received: 0, deleted: 0, failed: 0 };
    const queueArn = await this.resolveQueueArn();
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, queueArn, region)) };
    const context = lambdaContext(this.options.functionName, region, this.options.timeoutSeconds ?? 60);
    const failedIds = await this.invoke(handler, event, context);
    const succeeded = event.Records.filter((record) => !failedIds.has(record.messageId));
    await this.deleteRecords(succeeded);
    return {
      received: messages.length,
      deleted: succeeded.length,
      failed: messages.length - succeeded.length,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pollOnce();
        } catch (error) {
          this.options.onError?.(error);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    })();
  }

  /** Stops taking batches; a batch in progress finishes first. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Returns the ids that must stay on the queue: the reported failures, or all when the handler threw. */
  private async invoke(handler: SqsHandler, event: SQSEvent, context: Context): Promise<Set<string>> {
    const all = new Set(event.Records.map((record) => record.messageId));
    let response: unknown;
    try {
      response = await handler(event, context);
    } catch (error) {
      this.options.onError?.(error);
      return all;
    }
    const parsed = BatchResponseSchema.safeParse(response);
    // Lambda fails the whole batch on a malformed response or an identifier that is not in the batch.
    if (!parsed.success) return all;
    const ids = (parsed.data?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier);
    if (ids.some((id) => typeof id !== 'string' || !all.has(id))) return all;
    return new Set(ids as string[]);
  }

  private async deleteRecords(records: SQSRecord[]): Promise<void> {
    if (records.length === 0) return;
    const out = await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: records.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
      }),
    );
    const failed = out.Failed ?? [];
    if (failed.length > 0) {
      throw new Error(`could not delete ${failed.length} handled message(s): ${failed[0]?.Message ?? ''}`);
    }
  }

  private async resolveQueueArn(): Promise<string> {
    if (this.queueArn === undefined) {
      const out = await this.options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ['QueueArn'] }),
      );
      this.queueArn = out.Attributes?.QueueArn ?? '';
    }
    return this.queueArn;
  }
}
