/**
 * Waits for a request's completion event the way a client of the cloud stack would: through an SQS
 * queue subscribed to the completions topic.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { type CompletionEvent, CompletionEventSchema, UPLOAD_REJECTED_TYPE } from '../../contracts/event.js';
import { RequestFailedError } from '../exit-codes.js';

/** SNS delivers to SQS inside a notification envelope unless raw delivery is on. */
const SnsEnvelopeSchema = z.object({ Type: z.literal('Notification'), Message: z.string() });

function readEvent(body: string): CompletionEvent {
  const value: unknown = JSON.parse(body);
  const envelope = SnsEnvelopeSchema.safeParse(value);
  return CompletionEventSchema.parse(envelope.success ? JSON.parse(envelope.data.Message) : value);
}

/**
 * The first event for `requestId`: by default its terminal event, never an event about another upload
 * under the same id (`heritage.upload.rejected`, which `accept` can let through).
 */
export async function waitForCompletionEvent(
  sqs: SQSClient,
  queueUrl: string,
  requestId: string,
  options: { timeoutMs: number; onTick?: () => Promise<void>; accept?: (event: CompletionEvent) => boolean },
): Promise<CompletionEvent> {
  const accept = options.accept ?? ((event: CompletionEvent) => event.type !== UPLOAD_REJECTED_TYPE);
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of out.Messages ?? []) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
      const event = readEvent(message.Body ?? '');
      if (event.request_id === requestId && accept(event)) return event;
    }
    await options.onTick?.();
  }
  throw new RequestFailedError(
    `no completion event for ${requestId} within ${Math.round(options.timeoutMs / 1000)} s`,
  );
}

/**
 * Calls `onEvent` with every completion event on the queue, until `signal` aborts. A failed receive is
 * reported through `onError` and the watch goes on.
 */
export async function watchCompletionEvents(
  sqs: SQSClient,
  queueUrl: string,
  onEvent: (event: CompletionEvent) => void,
  options: { signal: AbortSignal; onError?: (error: unknown) => void },
): Promise<void> {
  while (!options.signal.aborted) {
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        { abortSignal: options.signal },
      );
      for (const message of out.Messages ?? []) {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        onEvent(readEvent(message.Body ?? ''));
      }
    } catch (error) {
      if (!options.signal.aborted) options.onError?.(error);
    }
  }
}
