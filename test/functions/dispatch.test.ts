import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../../adapters/aws/sns-event-publisher.js';
import { SqsWorkQueue } from '../../adapters/aws/sqs-work-queue.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import { type WorkMessage, WorkMessageSchema } from '../../contracts/work-message.js';
import { processIntake } from '../../functions/dispatch/process-intake.js';
import { localAwsClients } from '../../local/aws-clients.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { gif } from '../../local/testkit/images.js';
import { drainQueue } from '../../local/testkit/queues.js';
import { putImages, putManifest, putRequest, sampleImage } from '../../local/testkit/requests.js';
import { type Emulator, type EventListener, startEmulator } from '../support/emulator.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { intakeDeps } from '../support/function-deps.js';
import { intakeRecord, rawRecord, readEventFixture, sqsEvent } from '../support/intake-events.js';

let emulator: Emulator;
let events: EventListener;
let batch: BatchFake;
let proxy: FaultProxy;
let ids = 0;

function newId(): string {
  ids += 1;
  return `req-${ids}-${Date.now().toString(36)}`;
}

async function workMessages(): Promise<WorkMessage[]> {
  const bodies = await drainQueue(emulator.sqs, emulator.workQueueUrl);
  return bodies.map((body) => WorkMessageSchema.parse(JSON.parse(body)));
}

async function eventsFor(requestId: string) {
  return (await events.drain()).filter((event) => event.request_id === requestId);
}

beforeAll(async () => {
  emulator = await startEmulator();
  events = emulator.listen();
  proxy = await startFaultProxy(emulator.endpoint);
});

afterAll(async () => {
  await proxy.close();
  await emulator.stop();
});

beforeEach(async () => {
  batch?.mock.restore();
  batch = fakeBatch();
  await drainQueue(emulator.sqs, emulator.workQueueUrl);
});

describe('dispatch', () => {
  it('claims a valid request, sends one work message with seed, geometry and manifest ETag, and launches a worker', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id, { positive_prompt: 'a bird takes off', seed: 0 });
    const manifestEtag = (await emulator.objects.head(key))?.etag;

    // Act
    const response = await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [message, ...others] = await workMessages();
    expect(others).toEqual([]);
    expect(message).toMatchObject({
      request_id: id,
      bucket: emulator.bucket,
      manifest_etag: manifestEtag,
      manifest: { seed: 424242, positive_prompt: 'a bird takes off', frame_length: 65 },
      geometry: { width: 1072, height: 640, sourceFrames: 65, frames: 129, fps: 32, interpolation: 2 },
    });
    // The images as checked: the worker reads exactly these objects (If-Match) or nothing.
    for (const name of ['start', 'end'] as const) {
      const key = `inbox/${id}/${name}.png`;
      const head = await emulator.objects.head(key);
      expect(message?.inputs[name]).toMatchObject({
        key,
        etag: head?.etag,
        bytes: head?.size,
        format: 'png',
        orientation: 1,
      });
    }
    const status = (await emulator.statuses.read(id))?.status;
    expect(status).toMatchObject({ state: 'queued', seed: 424242, manifest_etag: manifestEtag });
    expect(status?.enqueued_at).toBe(message?.enqueued_at);
    expect(batch.submitted).toEqual([
      {
        jobName: 'heritage-worker-202611240102-1',
        jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/heritage-workers',
        jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/heritage-worker:1',
      },
    ]);
  });

  it('runs a request once when the same record arrives three times', async () => {
    // Prepare
    const key = await putRequest(emulator.objects, newId());
    const record = intakeRecord(key);
    const deps = intakeDeps(emulator, batch);

    // Act
    for (let i = 0; i < 3; i++) await processIntake(deps, sqsEvent(record));

    // Assess
    expect(await workMessages()).toHaveLength(1);
    expect(batch.submitted).toHaveLength(1);
  });

  it('runs a request once when three copies of its event share a batch', async () => {
    // Prepare
    const key = await putRequest(emulator.objects, newId());

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch),
      sqsEvent(intakeRecord(key), intakeRecord(key), intakeRecord(key)),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await workMessages()).toHaveLength(1);
  });

  it('runs each request once when two batches with the same events race', async () => {
    // Prepare
    const keys = await Promise.all([1, 2, 3, 4, 5].map(() => putRequest(emulator.objects, newId())));
    const deps = intakeDeps(emulator, batch);

    // Act
    const responses = await Promise.all([
      processIntake(deps, sqsEvent(...keys.map((key) => intakeRecord(key)))),
      processIntake(deps, sqsEvent(...keys.map((key) => intakeRecord(key)).reverse())),
    ]);

    // Assess
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    const messages = await workMessages();
    expect(messages.map((message) => message.request_id).sort()).toEqual(
      keys.map((key) => key.split('/')[1]).sort(),
    );
  });

  it('treats a repeat of the event of the manifest it ran as a duplicate, even after a re-upload', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id, { steps: 8 });
    const etag = (await emulator.objects.head(key))?.etag;
    const deps = intakeDeps(emulator, batch);
    await processIntake(deps, sqsEvent(intakeRecord(key, { etag })));
    await putManifest(emulator.objects, id, { steps: 12 });

    // Act
    const response = await processIntake(deps, sqsEvent(intakeRecord(key, { etag })));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await workMessages()).map((message) => message.manifest.steps)).toEqual([8]);
    expect(await eventsFor(id)).toEqual([]);
  });

  it('rejects a new manifest uploaded over a used id with REQUEST_ID_REUSED and leaves the request as it was', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id, { steps: 8, client_reference: 'first' });
    const deps = intakeDeps(emulator, batch);
    await processIntake(
      deps,
      sqsEvent(intakeRecord(key, { etag: (await emulator.objects.head(key))?.etag })),
    );
    const before = await emulator.statuses.read(id);
    await putManifest(emulator.objects, id, { steps: 12, frame_length: 33, client_reference: 'second' });
    const reupload = (await emulator.objects.head(key))?.etag;

    // Act
    const response = await processIntake(deps, sqsEvent(intakeRecord(key, { etag: reupload })));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await workMessages()).map((message) => message.manifest.steps)).toEqual([8]);
    expect(await emulator.statuses.read(id)).toEqual(before);
    expect(await emulator.objects.head(`requests/${id}/event.json`)).toBeUndefined();
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'heritage.upload.rejected',
      status: 'rejected',
      request_id: id,
      client_reference: 'second',
      parameters: { steps: 12, frame_length: 33 },
      error: {
        code: 'REQUEST_ID_REUSED',
        retryable: false,
        details: { manifest_key: key, manifest_etag: reupload?.replaceAll('"', ''), request_state: 'queued' },
      },
    });
    expect(published[0]?.error?.message).toContain('single-use');
  });

  it('publishes the REQUEST_ID_REUSED rejection of one upload once, however often its event repeats', async () => {
    // Prepare: the first request was itself rejected, then a fixed manifest went up under the same id.
    const id = newId();
    await putImages(emulator.objects, id);
    const key = await putManifest(emulator.objects, id, { frame_length: 66 });
    const deps = intakeDeps(emulator, batch);
    await processIntake(
      deps,
      sqsEvent(intakeRecord(key, { etag: (await emulator.objects.head(key))?.etag })),
    );
    await putManifest(emulator.objects, id, { frame_length: 65 });
    const reupload = intakeRecord(key, { etag: (await emulator.objects.head(key))?.etag });

    // Act: SQS delivers the same message twice, and S3 sends the event twice.
    await processIntake(deps, sqsEvent(reupload, { ...reupload, messageId: 'another-copy' }));
    await processIntake(deps, sqsEvent(reupload));

    // Assess
    const published = await eventsFor(id);
    expect(published.map((event) => [event.type, event.error?.code])).toEqual([
      ['heritage.request.rejected', 'MANIFEST_INVALID'],
      ['heritage.upload.rejected', 'REQUEST_ID_REUSED'],
    ]);
    expect((await emulator.statuses.read(id))?.status).toMatchObject({
      state: 'rejected',
      error: { code: 'MANIFEST_INVALID' },
    });
    expect(await workMessages()).toEqual([]);
  });

  it('waits for images uploaded after the manifest by letting SQS redeliver, then accepts', async () => {
    // Prepare
    const id = newId();
    const key = await putManifest(emulator.objects, id, {});
    const deps = intakeDeps(emulator, batch);
    const first = intakeRecord(key, { receiveCount: 1 });

    // Act
    const early = await processIntake(deps, sqsEvent(first));
    await putImages(emulator.objects, id);
    const later = await processIntake(
      deps,
      sqsEvent({ ...first, attributes: { ...first.attributes, ApproximateReceiveCount: '2' } }),
    );

    // Assess
    expect(early.batchItemFailures).toEqual([{ itemIdentifier: first.messageId }]);
    expect(later.batchItemFailures).toEqual([]);
    expect((await workMessages()).map((message) => message.request_id)).toEqual([id]);
    expect(await eventsFor(id)).toEqual([]);
  });

  it('rejects with IMAGE_MISSING once the redeliveries for a missing image are used up', async () => {
    // Prepare
    const id = newId();
    await emulator.objects.put(`inbox/${id}/start.png`, await sampleImage());
    const key = await putManifest(emulator.objects, id, { client_reference: 'order-7' });

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch),
      sqsEvent(intakeRecord(key, { receiveCount: 3 })),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'heritage.request.rejected',
      status: 'rejected',
      client_reference: 'order-7',
      parameters: { steps: 8, resolution: 640, frame_length: 65, interpolation: 2 },
      error: { code: 'IMAGE_MISSING', retryable: false },
    });
    expect(published[0]?.error?.message).toContain('end image');
    expect((await emulator.statuses.read(id))?.status).toMatchObject({
      state: 'rejected',
      error: { code: 'IMAGE_MISSING' },
    });
    expect(await workMessages()).toEqual([]);
  });

  it('rejects a bad end image at once, without waiting for a start image still missing', async () => {
    // Prepare
    const id = newId();
    await emulator.objects.put(`inbox/${id}/end.png`, gif());
    const key = await putManifest(emulator.objects, id, {});

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch),
      sqsEvent(intakeRecord(key, { receiveCount: 1 })),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['IMAGE_FORMAT_UNSUPPORTED']);
  });

  it('rejects an invalid manifest with its code and publishes the rejection once, however often the event repeats', async () => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    const key = await putManifest(emulator.objects, id, { frame_length: 64, stpes: 8 });
    const deps = intakeDeps(emulator, batch);

    // Act
    const responses = [];
    for (let i = 0; i < 3; i++) responses.push(await processIntake(deps, sqsEvent(intakeRecord(key))));

    // Assess
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      status: 'rejected',
      parameters: { steps: 8, resolution: 640, frame_length: 64, seed: 0, interpolation: 2 },
      error: { code: 'MANIFEST_INVALID' },
    });
    expect(published[0]?.error?.message).toContain('did you mean "steps"');
    expect(published[0]?.error?.message).toContain('nearest valid: 61 or 65');
    expect(await workMessages()).toEqual([]);
    expect(batch.submitted).toEqual([]);
  });

  it('echoes client_reference and every parameter it could read in a rejected event', async () => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    const key = await putManifest(emulator.objects, id, {
      client_reference: 'order-77',
      resolution: 500,
      steps: 'eight',
      seed: 77,
    });

    // Act
    await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    const [event] = await eventsFor(id);
    expect(event).toMatchObject({
      type: 'heritage.request.rejected',
      client_reference: 'order-77',
      parameters: { resolution: 500, frame_length: 65, seed: 77, interpolation: 2 },
      error: { code: 'MANIFEST_INVALID' },
    });
    expect(event?.parameters).not.toHaveProperty('steps');
    expect((await emulator.statuses.read(id))?.status.client_reference).toBe('order-77');
  });

  it('rejects a manifest that is not JSON with MANIFEST_NOT_JSON', async () => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    const key = await putManifest(emulator.objects, id, '{"steps": 8,');

    // Act
    await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['MANIFEST_NOT_JSON']);
  });

  it('rejects a start image that is not an image, reading only its header', async () => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    await emulator.objects.put(`inbox/${id}/start.png`, Buffer.from('GIF89a not really an image'));
    const key = await putManifest(emulator.objects, id, {});

    // Act
    await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['IMAGE_FORMAT_UNSUPPORTED']);
  });

  it('accepts the legacy request body and stores its inline images for the worker', async () => {
    // Prepare
    const id = newId();
    const start = await sampleImage(128, 128, 'jpeg');
    const end = await sampleImage(128, 128, 'webp');
    const key = await putManifest(emulator.objects, id, {
      input: {
        positive_prompt: 'legacy',
        start_image_base64: `data:image/jpeg;base64,${start.toString('base64')}`,
        end_image_base64: end.toString('base64'),
      },
    });

    // Act
    await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    const [message] = await workMessages();
    const stored = await emulator.objects.get(`requests/${id}/inputs/start.jpg`);
    expect(message?.inputs.start).toMatchObject({
      key: `requests/${id}/inputs/start.jpg`,
      etag: stored?.etag,
      format: 'jpeg',
    });
    expect(message?.inputs.end).toMatchObject({ key: `requests/${id}/inputs/end.webp`, format: 'webp' });
    expect(Buffer.from(stored?.body ?? [])).toEqual(start);
    expect(message?.geometry).toMatchObject({ width: 640, height: 640 });
  });

  it('retries only the record whose S3 read failed in a batch of ten', async () => {
    // Prepare
    const keys = await Promise.all(Array.from({ length: 10 }, () => putRequest(emulator.objects, newId())));
    const unlucky = keys[6] ?? '';
    const { s3 } = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({
      service: 's3',
      operation: 'GET',
      key: new RegExp(`^${unlucky}$`),
      kind: 'internal-error',
      times: 1,
    });
    const objects = new S3ObjectStore(s3, emulator.bucket);
    const records = keys.map((key) => intakeRecord(key));

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch, { objects, statuses: new ObjectStatusStore(objects) }),
      sqsEvent(...records),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[6]?.messageId }]);
    const messages = await workMessages();
    expect(messages).toHaveLength(9);
    expect(messages.map((message) => message.request_id)).not.toContain(unlucky.split('/')[1]);
  });

  it('finishes a claim whose work message was never sent when the same delivery is retried', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id);
    const record = intakeRecord(key);
    const { sqs } = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({ service: 'sqs', operation: 'SendMessage', kind: 'internal-error', times: 1 });
    const failingQueue = new SqsWorkQueue(sqs, emulator.workQueueUrl);
    const broken = await processIntake(
      intakeDeps(emulator, batch, { workQueue: failingQueue }),
      sqsEvent(record),
    );

    // Act
    const retried = await processIntake(intakeDeps(emulator, batch), sqsEvent(record));

    // Assess
    expect(broken.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(retried.batchItemFailures).toEqual([]);
    const [message, ...others] = await workMessages();
    expect(others).toEqual([]);
    expect(message?.manifest.seed).toBe((await emulator.statuses.read(id))?.status.seed);
    expect((await emulator.statuses.read(id))?.status.enqueued_at).toBe(message?.enqueued_at);
  });

  it('launches at most maxWorkers, as one array job, for a batch of ten', async () => {
    // Prepare
    const keys = await Promise.all(Array.from({ length: 10 }, () => putRequest(emulator.objects, newId())));

    // Act
    await processIntake(
      intakeDeps(emulator, batch, { maxWorkers: 4 }),
      sqsEvent(...keys.map((key) => intakeRecord(key))),
    );
    await processIntake(
      intakeDeps(emulator, batch, { maxWorkers: 4 }),
      sqsEvent(intakeRecord(await putRequest(emulator.objects, newId()))),
    );

    // Assess
    expect(batch.submitted).toEqual([
      {
        jobName: 'heritage-worker-202611240102-4',
        jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/heritage-workers',
        jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/heritage-worker:1',
        arrayProperties: { size: 4 },
      },
    ]);
  });

  it('still acknowledges accepted records when Batch keeps answering 429, leaving scaling to reconcile', async () => {
    // Prepare
    const key = await putRequest(emulator.objects, newId());
    batch.mock.on(SubmitJobCommand).rejects(
      Object.assign(new Error('Too Many Requests'), {
        name: 'ClientException',
        $metadata: { httpStatusCode: 429 },
      }),
    );

    // Act
    const response = await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await workMessages()).toHaveLength(1);
    expect(batch.mock.commandCalls(SubmitJobCommand)).toHaveLength(5);
  });

  it('ignores the S3 test event, keys outside inbox/*/manifest.json and other buckets', async () => {
    // Prepare
    const testEvent = rawRecord(JSON.stringify(readEventFixture('s3-test-event.json')));
    const id = newId();
    await putImages(emulator.objects, id);

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch),
      sqsEvent(
        testEvent,
        intakeRecord(`inbox/${id}/start.png`),
        intakeRecord(`inbox/${id}/manifest.json`, { bucket: 'someone-elses-bucket' }),
        rawRecord('not json at all'),
      ),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await workMessages()).toEqual([]);
    expect(await emulator.statuses.read(id)).toBeUndefined();
  });
});

describe('dispatch, finishing what an earlier delivery left undone', () => {
  async function unfinishedClaim(id: string, claimedBy: string, ageMs: number): Promise<void> {
    const at = new Date(Date.now() - ageMs).toISOString();
    await emulator.statuses.create({
      version: 1,
      request_id: id,
      state: 'queued',
      created_at: at,
      updated_at: at,
      seed: 77,
      claimed_by: claimedBy,
    });
  }

  it('leaves a fresh claim of another delivery alone', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id);
    await unfinishedClaim(id, 'another-delivery', 1_000);

    // Act
    const response = await processIntake(
      intakeDeps(emulator, batch, { leaseMs: 60_000 }),
      sqsEvent(intakeRecord(key)),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await workMessages()).toEqual([]);
  });

  it('takes over a claim older than the lease and sends its work message with the claimed seed', async () => {
    // Prepare
    const id = newId();
    const key = await putRequest(emulator.objects, id);
    await unfinishedClaim(id, 'a-delivery-that-died', 120_000);

    // Act
    await processIntake(intakeDeps(emulator, batch, { leaseMs: 60_000 }), sqsEvent(intakeRecord(key)));

    // Assess
    const messages = await workMessages();
    expect(messages.map((message) => [message.request_id, message.manifest.seed])).toEqual([[id, 77]]);
  });

  it('publishes a rejection once when SNS failed the first time with an unclear answer, after the failed attempt’s claim lapsed', async () => {
    // Prepare: a 500 leaves it open whether SNS took the event, so the failed attempt keeps its claim.
    const id = newId();
    const key = await putManifest(emulator.objects, id, { resolution: 500 });
    const record = intakeRecord(key);
    const { sns } = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({ service: 'sns', operation: 'Publish', kind: 'internal-error', times: 1 });
    const failing = await processIntake(
      intakeDeps(emulator, batch, { events: new SnsEventPublisher(sns, emulator.topicArn) }),
      sqsEvent(record),
    );
    const duplicateMeanwhile = await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));
    const lapsed = intakeDeps(emulator, batch, { now: () => new Date(Date.now() + 61_000) });

    // Act: the same delivery again while the claim is fresh (another attempt), then after it lapsed.
    const tooSoon = await processIntake(intakeDeps(emulator, batch), sqsEvent(record));
    const retried = await processIntake(lapsed, sqsEvent(record));
    const again = await processIntake(lapsed, sqsEvent(record));

    // Assess: no two attempts publish over one claim, whatever delivery they came from.
    expect(failing.batchItemFailures).toHaveLength(1);
    expect(duplicateMeanwhile.batchItemFailures).toHaveLength(1);
    expect(tooSoon.batchItemFailures).toHaveLength(1);
    expect(retried.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['MANIFEST_INVALID']);
  });

  it('publishes a rejection on the next attempt at once when SNS refused the first one (throttled)', async () => {
    // Prepare: a 400 Throttling means the event did not go out, so the failed attempt gives its claim up.
    const id = newId();
    const key = await putManifest(emulator.objects, id, { resolution: 500 });
    const record = intakeRecord(key);
    const { sns } = localAwsClients(proxy.endpoint, { maxAttempts: 1 });
    proxy.inject({ service: 'sns', operation: 'Publish', kind: 'throttle', times: 1 });
    const throttled = await processIntake(
      intakeDeps(emulator, batch, { events: new SnsEventPublisher(sns, emulator.topicArn) }),
      sqsEvent(record),
    );

    // Act: the record's retry, well inside the first attempt's lease.
    const retried = await processIntake(intakeDeps(emulator, batch), sqsEvent(record));
    const again = await processIntake(intakeDeps(emulator, batch), sqsEvent(record));

    // Assess
    expect(throttled.batchItemFailures).toHaveLength(1);
    expect(retried.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['MANIFEST_INVALID']);
  });
});
