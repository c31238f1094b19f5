import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3NotificationBridge } from '../../local/s3-notification-bridge.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

const documented = JSON.parse(
  readFileSync(new URL('../fixtures/events/s3-put-notification.json', import.meta.url), 'utf8'),
) as S3Event;

/** The structure of a JSON value: every key, with the type of every leaf. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, inner]) => [key, shapeOf(inner)]),
    );
  }
  return typeof value;
}

describe('S3 notification bridge', () => {
  let aws: Emulator;
  let bridge: S3NotificationBridge;

  beforeAll(async () => {
    aws = await startEmulator();
  });
  afterAll(async () => {
    await aws.stop();
  });
  beforeEach(async () => {
    bridge = new S3NotificationBridge({
      s3: aws.s3,
      sqs: aws.sqs,
      bucket: aws.bucket,
      region: aws.region,
      queueUrl: aws.intakeQueueUrl,
    });
    // A fresh bridge reports what earlier tests left in the inbox; start each test from a quiet queue.
    await bridge.scan();
    await receiveEvents();
  });

  async function put(key: string, body: string): Promise<string> {
    const out = await aws.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: key, Body: body }));
    return out.ETag ?? '';
  }

  async function receiveEvents(): Promise<S3Event[]> {
    const events: S3Event[] = [];
    for (;;) {
      const out = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: aws.intakeQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return events;
      for (const message of messages) {
        events.push(JSON.parse(message.Body ?? '') as S3Event);
        await aws.sqs.send(
          new DeleteMessageCommand({ QueueUrl: aws.intakeQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
  }

  it('sends the event AWS documents for a PUT, field by field', async () => {
    // Prepare
    const body = '{"version":1}';
    const etag = await put('inbox/shape-1/manifest.json', body);

    // Act
    await bridge.scan();
    const [event] = await receiveEvents();

    // Assess
    expect(shapeOf(event)).toEqual(shapeOf(documented));
    const record = event?.Records[0];
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: aws.region,
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: aws.bucket, arn: `arn:aws:s3:::${aws.bucket}` },
        object: { key: 'inbox/shape-1/manifest.json', size: body.length, eTag: etag.replaceAll('"', '') },
      },
    });
    expect(record?.s3.object.eTag).not.toContain('"');
    expect(record?.s3.object.sequencer).toMatch(/^[0-9A-F]{18,}$/);
    expect(Number.isNaN(Date.parse(record?.eventTime ?? ''))).toBe(false);
  });

  it('sends one event per manifest and none for images or keys outside the inbox', async () => {
    // Prepare
    await put('inbox/only-1/start.png', 'png');
    await put('inbox/only-1/manifest.json', '{}');
    await put('requests/only-1/manifest.json', '{}');

    // Act
    const sent = await bridge.scan();
    const again = await bridge.scan();
    const events = await receiveEvents();

    // Assess
    expect(sent).toBe(1);
    expect(again).toBe(0);
    expect(events.map((e) => e.Records[0]?.s3.object.key)).toEqual(['inbox/only-1/manifest.json']);
  });

  it('sends again when a manifest is replaced by one with a new ETag, not when the same bytes are re-put', async () => {
    // Prepare
    await put('inbox/replace-1/manifest.json', '{"seed":1}');
    await bridge.scan();
    await receiveEvents();

    // Act
    await put('inbox/replace-1/manifest.json', '{"seed":1}');
    const sameBytes = await bridge.scan();
    const newEtag = await put('inbox/replace-1/manifest.json', '{"seed":2}');
    const replaced = await bridge.scan();
    const events = await receiveEvents();

    // Assess
    expect(sameBytes).toBe(0);
    expect(replaced).toBe(1);
    expect(events[0]?.Records[0]?.s3.object.eTag).toBe(newEtag.replaceAll('"', ''));
  });

  it('URL-encodes the key as S3 does, with "+" for a space', async () => {
    // Prepare
    await put('inbox/my request=1/manifest.json', '{}');

    // Act
    await bridge.scan();
    const [event] = await receiveEvents();

    // Assess
    expect(event?.Records[0]?.s3.object.key).toBe('inbox/my+request%3D1/manifest.json');
  });
});
