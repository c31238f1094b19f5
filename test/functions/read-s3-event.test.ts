import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decodeS3Key, readS3Event } from '../../functions/dispatch/read-s3-event.js';
import { readEventFixture } from '../support/intake-events.js';

function fixtureBody(): string {
  return readEventFixture<SQSEvent>('sqs-s3-object-created.json').Records[0]?.body ?? '';
}

describe('readS3Event', () => {
  it('reads the bucket, key and ETag of an S3 ObjectCreated notification', () => {
    expect(readS3Event(fixtureBody())).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'heritage-requests',
          key: 'inbox/req-0001/manifest.json',
          etag: '0123456789abcdef0123456789abcdef',
        },
      ],
    });
  });

  it('decodes keys the way S3 encodes them: "+" is a space, %XX an escaped byte', () => {
    expect(decodeS3Key('inbox/my+request/start+image%2B1.png')).toBe('inbox/my request/start image+1.png');
    expect(decodeS3Key('inbox/caf%C3%A9/manifest.json')).toBe('inbox/café/manifest.json');
  });

  it('recognizes the test event S3 sends when notifications are configured', () => {
    expect(readS3Event(JSON.stringify(readEventFixture('s3-test-event.json')))).toEqual({
      kind: 'test-event',
    });
  });

  it('skips records that are not object creations', () => {
    const body = JSON.parse(fixtureBody()) as { Records: { eventName: string }[] };
    for (const record of body.Records) record.eventName = 'ObjectRemoved:Delete';
    expect(readS3Event(JSON.stringify(body))).toEqual({ kind: 'objects', objects: [] });
  });

  it('reports a body that is not an S3 event as unreadable', () => {
    expect(readS3Event('{"hello":1}').kind).toBe('unreadable');
    expect(readS3Event('<xml/>').kind).toBe('unreadable');
  });
});
