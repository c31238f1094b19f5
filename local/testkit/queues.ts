/** Reads every message waiting on an emulator queue (and deletes them), for assertions and benchmarks. */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const message of messages) {
      bodies.push(message.Body ?? '');
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle ?? '' }),
      );
    }
  }
}

/**
 * Plays a worker that takes a message and dies, again and again, until SQS's redrive policy moves it
 * to the dead-letter queue. Each receive uses visibility 0, so no test waits for a timeout.
 */
export async function crashUntilDeadLettered(sqs: SQSClient, queueUrl: string): Promise<void> {
  for (let receives = 0; receives < 50; receives++) {
    if ((await receiveAll(sqs, queueUrl)).length === 0) return;
  }
  throw new Error(`messages on ${queueUrl} never reached the dead-letter queue`);
}

/** Receives what waits on a queue as Lambda would hand it over: message id and body, not deleted. */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ messageId: string; body: string }[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    }),
  );
  return (out.Messages ?? []).map((message) => ({
    messageId: message.MessageId ?? '',
    body: message.Body ?? '',
  }));
}
