/** Test harness: the local AWS stand-in plus real SDK clients and the Heritage adapters wired to it. */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../../adapters/aws/sns-event-publisher.js';
import { SqsWorkQueue } from '../../adapters/aws/sqs-work-queue.js';
import { type CompletionEvent, CompletionEventSchema } from '../../contracts/event.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import { type AwsClients, localAwsClients } from '../../local/aws-clients.js';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '../../local/local-aws.js';

export interface Emulator extends LocalAws, AwsClients {
  objects: S3ObjectStore;
  statuses: ObjectStatusStore;
  workQueue: SqsWorkQueue;
  events: SnsEventPublisher;
  /** Subscribes a fresh queue to the completions topic and returns a reader of the events on it. */
  listen(): EventListener;
}

export interface EventListener {
  /** Drains the subscription queue and returns every event received so far (accumulated). */
  drain(): Promise<CompletionEvent[]>;
}

let listeners = 0;

export async function startEmulator(options: LocalAwsOptions = {}): Promise<Emulator> {
  const aws = await startLocalAws(options);
  const clients = localAwsClients(aws.endpoint);
  const objects = new S3ObjectStore(clients.s3, aws.bucket);
  return {
    ...aws,
    ...clients,
    objects,
    statuses: new ObjectStatusStore(objects),
    workQueue: new SqsWorkQueue(clients.sqs, aws.workQueueUrl),
    events: new SnsEventPublisher(clients.sns, aws.topicArn),
    listen() {
      listeners += 1;
      const queueUrl = aws.subscribeQueue(`test-events-${process.pid}-${listeners}`);
      const seen: CompletionEvent[] = [];
      return {
        async drain() {
          for (;;) {
            const out = await clients.sqs.send(
              new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
            );
            const messages = out.Messages ?? [];
            if (messages.length === 0) return [...seen];
            for (const message of messages) {
              const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
              seen.push(CompletionEventSchema.parse(JSON.parse(envelope.Message ?? message.Body ?? '{}')));
              await clients.sqs.send(
                new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle ?? '' }),
              );
            }
          }
        },
      };
    },
    async stop() {
      for (const client of Object.values(clients)) client.destroy();
      await aws.stop();
    },
  };
}
