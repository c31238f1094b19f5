import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localAwsClients } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';

let aws: Emulator;
let proxy: FaultProxy;
beforeAll(async () => {
  aws = await startEmulator();
  proxy = await startFaultProxy(aws.endpoint);
});
afterAll(async () => {
  await proxy.close();
  await aws.stop();
});

describe('fault proxy', () => {
  it('fails S3, SQS and SNS calls with service-shaped errors that the SDK reports', async () => {
    const clients = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({ service: 's3', operation: 'PUT', kind: 'throttle', times: 1 });
    proxy.inject({ service: 'sqs', operation: 'SendMessage', kind: 'internal-error', times: 1 });
    proxy.inject({ service: 'sns', operation: 'Publish', kind: 'throttle', times: 1 });

    const [s3, sqs, sns] = await Promise.allSettled([
      clients.s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: 'outputs/x/a.txt', Body: 'a' })),
      clients.sqs.send(new SendMessageCommand({ QueueUrl: aws.workQueueUrl, MessageBody: 'x' })),
      clients.sns.send(new PublishCommand({ TopicArn: aws.topicArn, Message: 'x' })),
    ]);

    expect(s3).toMatchObject({ status: 'rejected', reason: { name: 'SlowDown' } });
    expect(sqs).toMatchObject({ status: 'rejected', reason: { $metadata: { httpStatusCode: 500 } } });
    expect(sns).toMatchObject({ status: 'rejected', reason: { name: 'Throttling' } });
    expect(proxy.injected()).toEqual({ 's3:throttle': 1, 'sqs:internal-error': 1, 'sns:throttle': 1 });
  });

  it('lets the SDK retry through a transient fault', async () => {
    const clients = localAwsClients(proxy.endpoint);
    proxy.inject({
      service: 's3',
      operation: 'PUT',
      key: /^outputs\/retry\//,
      kind: 'internal-error',
      times: 2,
    });

    await clients.s3.send(
      new PutObjectCommand({ Bucket: aws.bucket, Key: 'outputs/retry/a.txt', Body: 'a' }),
    );

    expect(new TextDecoder().decode((await aws.objects.get('outputs/retry/a.txt'))?.body)).toBe('a');
  });

  it('holds a matching call until released, then forwards it', async () => {
    // Prepare
    const clients = localAwsClients(proxy.endpoint);
    proxy.inject({ service: 's3', operation: 'PUT', key: /^outputs\/held\//, kind: 'hold', times: 1 });
    const put = clients.s3.send(
      new PutObjectCommand({ Bucket: aws.bucket, Key: 'outputs/held/a.txt', Body: 'held' }),
    );
    while (proxy.held().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    // Act
    const stored = await aws.objects.get('outputs/held/a.txt');
    const [call] = proxy.held();
    call?.release();
    await put;

    // Assess
    expect(stored).toBeUndefined();
    expect(call).toMatchObject({ service: 's3', operation: 'PUT', key: 'outputs/held/a.txt' });
    expect(new TextDecoder().decode((await aws.objects.get('outputs/held/a.txt'))?.body)).toBe('held');
    expect(proxy.held()).toEqual([]);
  });

  it('drops a held call whose client went away', async () => {
    // Prepare
    const clients = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({ service: 's3', operation: 'PUT', key: /^outputs\/dropped\//, kind: 'hold', times: 1 });
    const abort = new AbortController();
    const put = clients.s3
      .send(new PutObjectCommand({ Bucket: aws.bucket, Key: 'outputs/dropped/a.txt', Body: 'x' }), {
        abortSignal: abort.signal,
      })
      .catch((error: unknown) => error);
    while (proxy.held().length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const [held] = proxy.held();

    // Act
    abort.abort();
    await put;
    await held?.abandoned;
    held?.release();

    // Assess
    expect(await aws.objects.get('outputs/dropped/a.txt')).toBeUndefined();
  });

  it('matches SNS calls on their body, counts what each rule fired, and stops a removed rule', async () => {
    // Prepare
    const clients = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    const publish = (message: string) =>
      clients.sns.send(new PublishCommand({ TopicArn: aws.topicArn, Message: message })).then(
        () => 'sent',
        (error: { name: string }) => error.name,
      );
    const outage = proxy.inject({
      service: 'sns',
      operation: 'Publish',
      body: /request-a/,
      kind: 'internal-error',
      times: 1_000,
    });

    // Act
    const during = [await publish('{"request_id":"request-a"}'), await publish('{"request_id":"request-b"}')];
    const firedDuring = outage.fired();
    outage.remove();
    const after = await publish('{"request_id":"request-a"}');

    // Assess
    expect(during).toEqual(['InternalFailure', 'sent']);
    expect(firedDuring).toBe(1);
    expect(after).toBe('sent');
    expect(outage.fired()).toBe(1);
  });
});
