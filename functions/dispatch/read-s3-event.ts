/** The intake queue's message body: an S3 event notification, or the test event S3 sends once. */
import { z } from 'zod';

const S3RecordSchema = z.object({
  eventName: z.string().describe('e.g. ObjectCreated:Put'),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string().describe('URL-encoded, with spaces as "+".'),
      size: z.number().optional(),
      eTag: z.string().optional().describe('Without quotes; it tells one upload of a key from another.'),
    }),
  }),
});

const S3NotificationSchema = z.object({ Records: z.array(S3RecordSchema) });
const S3TestEventSchema = z.object({ Event: z.literal('s3:TestEvent') });

export interface ObjectCreated {
  bucket: string;
  key: string;
  /** The ETag of the object version this event is about (S3 events always carry it). */
  etag?: string;
}

export type IntakeBody =
  | { kind: 'test-event' }
  | { kind: 'objects'; objects: ObjectCreated[] }
  | { kind: 'unreadable'; reason: string };

/** S3 encodes keys in notifications as form-urlencoded: "+" is a space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function readS3Event(body: string): IntakeBody {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'unreadable', reason: 'body is not JSON' };
  }
  if (S3TestEventSchema.safeParse(value).success) return { kind: 'test-event' };
  const parsed = S3NotificationSchema.safeParse(value);
  if (!parsed.success) return { kind: 'unreadable', reason: z.prettifyError(parsed.error) };
  try {
    const objects = parsed.data.Records.filter((record) => record.eventName.startsWith('ObjectCreated')).map(
      (record) => ({
        bucket: record.s3.bucket.name,
        key: decodeS3Key(record.s3.object.key),
        ...(record.s3.object.eTag === undefined ? {} : { etag: record.s3.object.eTag }),
      }),
    );
    return { kind: 'objects', objects };
  } catch (error) {
    return { kind: 'unreadable', reason: `object key is not URL-encoded: ${(error as Error).message}` };
  }
}
