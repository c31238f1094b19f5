import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { isPreconditionFailed } from '../../contracts/ports.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

let aws: Emulator;
beforeAll(async () => {
  aws = await startEmulator();
});
afterAll(async () => {
  await aws.stop();
});

function queuedStatus(requestId: string): StatusDocument {
  const now = new Date().toISOString();
  return { version: 1, request_id: requestId, state: 'queued', created_at: now, updated_at: now, seed: 42 };
}

describe('S3ObjectStore over the local stack', () => {
  it('refuses a second If-None-Match create of the same key', async () => {
    await aws.objects.put('requests/a/once.json', '{}', { ifNoneMatch: '*' });
    const second = aws.objects.put('requests/a/once.json', '{"x":1}', { ifNoneMatch: '*' });
    await expect(second).rejects.toSatisfy(isPreconditionFailed);
    expect(new TextDecoder().decode((await aws.objects.get('requests/a/once.json'))?.body)).toBe('{}');
  });

  it('refuses an If-Match write whose ETag is stale', async () => {
    const first = await aws.objects.put('requests/b/doc.json', 'v1');
    await aws.objects.put('requests/b/doc.json', 'v2', { ifMatch: first.etag });
    await expect(aws.objects.put('requests/b/doc.json', 'v3', { ifMatch: first.etag })).rejects.toSatisfy(
      isPreconditionFailed,
    );
  });

  it('reads a byte range and reports the full object size', async () => {
    await aws.objects.put('inbox/c/data.bin', new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const part = await aws.objects.get('inbox/c/data.bin', { start: 2, end: 4 });
    expect([...(part?.body ?? [])]).toEqual([2, 3, 4]);
    expect(part?.size).toBe(10);
  });

  it('returns undefined for a missing key on head and get', async () => {
    expect(await aws.objects.head('inbox/none/x.png')).toBeUndefined();
    expect(await aws.objects.get('inbox/none/x.png')).toBeUndefined();
  });
});

describe('ObjectStatusStore', () => {
  it('lets exactly one of ten racing claims win', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, () => aws.statuses.create(queuedStatus('race-1'))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('applies concurrent updates one after another instead of losing one', async () => {
    await aws.statuses.create(queuedStatus('upd-1'));
    await aws.statuses.update('upd-1', (s) => ({ ...s, state: 'running', attempt: 1 }));
    await Promise.all(
      Array.from({ length: 5 }, () =>
        aws.statuses.update('upd-1', (s) => ({ ...s, attempt: (s.attempt ?? 0) + 1 })),
      ),
    );
    expect((await aws.statuses.read('upd-1'))?.status.attempt).toBe(6);
  });

  it('refuses to move a terminal request', async () => {
    await aws.statuses.create({ ...queuedStatus('term-1'), state: 'rejected' });
    await expect(aws.statuses.update('term-1', (s) => ({ ...s, state: 'running' }))).rejects.toThrow(
      /illegal status transition rejected -> running/,
    );
  });
});

describe('SnsEventPublisher', () => {
  it('delivers the event to a subscribed queue', async () => {
    const listener = aws.listen();
    await aws.events.publish({
      type: 'heritage.request.rejected',
      version: 1,
      request_id: 'ev-1',
      client_reference: null,
      bucket: aws.bucket,
      status: 'rejected',
      engine: null,
      frames: null,
      video: null,
      result_key: null,
      parameters: null,
      timings_ms: null,
      gpu_seconds: null,
      error: { code: 'MANIFEST_INVALID', message: 'bad', retryable: false },
    });
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status])).toEqual([['ev-1', 'rejected']]);
  });
});
