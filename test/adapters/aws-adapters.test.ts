import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { isPreconditionFailed } from '../../contracts/ports.js';
import { localAwsClients } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';

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

describe('S3ObjectStore where IAM answers 403 for a key it may not confirm', () => {
  let proxy: FaultProxy;
  let clients: ReturnType<typeof localAwsClients>;
  let store: S3ObjectStore;
  beforeAll(async () => {
    proxy = await startFaultProxy(aws.endpoint);
    clients = localAwsClients(proxy.endpoint);
    store = new S3ObjectStore(clients.s3, aws.bucket);
  });
  afterAll(async () => {
    for (const client of Object.values(clients)) client.destroy();
    await proxy.close();
  });

  it('reads a missing key as absent when listing under it shows nothing there', async () => {
    // Prepare: S3's answer to a caller whose s3:ListBucket it does not count for this key.
    for (const operation of ['GET', 'HEAD']) {
      proxy.inject({ service: 's3', operation, key: /^outputs\/gone-1\//, kind: 'access-denied', times: 1 });
    }

    // Act
    const got = await store.get('outputs/gone-1/result.json');
    const head = await store.head('outputs/gone-1/result.json');

    // Assess
    expect([got, head]).toEqual([undefined, undefined]);
    expect(proxy.injected()['s3:access-denied']).toBe(2);
  });

  it('keeps the denial for a key that is there', async () => {
    // Prepare
    await aws.objects.put('outputs/there-1/result.json', '{}');
    await aws.objects.put('outputs/there-1/result.json.tmp', '{}');
    proxy.inject({
      service: 's3',
      operation: 'GET',
      key: /^outputs\/there-1\//,
      kind: 'access-denied',
      times: 1,
    });

    // Act
    const reading = store.get('outputs/there-1/result.json');

    // Assess
    await expect(reading).rejects.toSatisfy(
      (error) => error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403,
    );
  });

  it('keeps the denial when listing is refused too', async () => {
    // Prepare: the bucket-level GET is ListObjectsV2.
    proxy.inject({
      service: 's3',
      operation: 'GET',
      key: /^inbox\/other-1\//,
      kind: 'access-denied',
      times: 1,
    });
    proxy.inject({ service: 's3', operation: 'GET', key: /^$/, kind: 'access-denied', times: 1 });

    // Act
    const reading = store.get('inbox/other-1/start.png');

    // Assess
    await expect(reading).rejects.toSatisfy(
      (error) => error instanceof S3ServiceException && error.name === 'AccessDenied',
    );
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
