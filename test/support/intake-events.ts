/** Lambda SQS events carrying S3 notifications, built from the fixture in test/fixtures/events. */
import { readFileSync } from 'node:fs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

const FIXTURES = new URL('../fixtures/events/', import.meta.url);

export function readEventFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
}

/** S3 encodes notification keys like a form: spaces as "+", "/" kept. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export interface IntakeRecordOptions {
  messageId?: string;
  receiveCount?: number;
  bucket?: string;
  /**
   * The uploaded manifest's ETag, as S3 puts it in the event. Left out, the event names no ETag, and
   * dispatch cannot tell one upload of the key from another (every event is then a duplicate).
   */
  etag?: string | undefined;
}

let sequence = 0;

/** An intake SQS record whose body is the S3 notification for `key`. */
export function intakeRecord(key: string, options: IntakeRecordOptions = {}): SQSRecord {
  const template = readEventFixture<SQSEvent>('sqs-s3-object-created.json').Records[0];
  if (template === undefined) throw new Error('fixture has no record');
  const notification = JSON.parse(template.body) as {
    Records: {
      s3: { bucket: { name: string }; object: { key: string; eTag?: string; sequencer?: string } };
    }[];
  };
  for (const record of notification.Records) {
    const { object } = record.s3;
    object.key = encodeS3Key(key);
    if (options.bucket !== undefined) record.s3.bucket.name = options.bucket;
    delete object.eTag;
    delete object.sequencer;
    if (options.etag !== undefined) object.eTag = options.etag.replaceAll('"', '');
  }
  sequence += 1;
  return {
    ...template,
    messageId: options.messageId ?? `intake-${process.pid}-${sequence}`,
    body: JSON.stringify(notification),
    attributes: { ...template.attributes, ApproximateReceiveCount: String(options.receiveCount ?? 1) },
  };
}

export function rawRecord(body: string, messageId = `raw-${process.pid}-${++sequence}`): SQSRecord {
  const template = readEventFixture<SQSEvent>('sqs-s3-object-created.json').Records[0];
  if (template === undefined) throw new Error('fixture has no record');
  return { ...template, messageId, body };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
