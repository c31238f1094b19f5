import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestKeys } from '../../contracts/keys.js';
import { WorkMessageSchema } from '../../contracts/work-message.js';
import type { DeadLetterDeps } from '../../functions/dead-letter/fail-dead-letter.js';
import { processDeadLetters } from '../../functions/dead-letter/process-dead-letters.js';
import { processIntake } from '../../functions/dispatch/process-intake.js';
import { buildResult } from '../../gpu-container/worker/job/build-result.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { crashUntilDeadLettered, drainQueue, receiveAll } from '../../local/testkit/queues.js';
import { putRequest } from '../../local/testkit/requests.js';
import { type Emulator, type EventListener, startEmulator } from '../support/emulator.js';
import { intakeDeps, quietObservability } from '../support/function-deps.js';
import { intakeRecord, rawRecord, sqsEvent } from '../support/intake-events.js';

let emulator: Emulator;
let events: EventListener;
let batch: BatchFake;
let ids = 0;

function deadLetterDeps(): DeadLetterDeps {
  return {
    bucket: emulator.bucket,
    objects: emulator.objects,
    statuses: emulator.statuses,
    events: emulator.events,
    now: () => new Date(),
    leaseMs: 60_000,
    ...quietObservability(),
  };
}

/** A request dispatched for real: claimed, its work message on the work queue. */
async function dispatched(): Promise<string> {
  ids += 1;
  const id = `dl-${ids}-${Date.now().toString(36)}`;
  const key = await putRequest(emulator.objects, id, { client_reference: `ref-${id}` });
  await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));
  return id;
}

async function deadLetters() {
  await crashUntilDeadLettered(emulator.sqs, emulator.workQueueUrl);
  return (await receiveAll(emulator.sqs, emulator.workDlqUrl)).map((letter) =>
    rawRecord(letter.body, letter.messageId),
  );
}

async function eventsFor(requestId: string) {
  return (await events.drain()).filter((event) => event.request_id === requestId);
}

beforeAll(async () => {
  emulator = await startEmulator({ maxReceiveCount: 2 });
  events = emulator.listen();
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(async () => {
  batch?.mock.restore();
  batch = fakeBatch();
  await drainQueue(emulator.sqs, emulator.workQueueUrl);
  await drainQueue(emulator.sqs, emulator.workDlqUrl);
});

describe('dead-letter', () => {
  it('fails a request whose worker crashed on every attempt with WORKER_CRASHED and one failed event', async () => {
    // Prepare
    const id = await dispatched();
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'running',
      attempt: 2,
      worker_id: 'w-1',
    }));
    const letters = await deadLetters();

    // Act: the letter arrives twice, as SQS may deliver it.
    const first = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));
    const second = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(letters).toHaveLength(1);
    expect([...first.batchItemFailures, ...second.batchItemFailures]).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'heritage.request.failed',
      status: 'failed',
      client_reference: `ref-${id}`,
      parameters: { seed: 424242, steps: 8 },
      error: { code: 'WORKER_CRASHED', retryable: false },
    });
    expect((await emulator.statuses.read(id))?.status).toMatchObject({
      state: 'failed',
      error: { code: 'WORKER_CRASHED' },
    });
  });

  it('marks succeeded, with one succeeded event, a request whose dead worker had committed result.json', async () => {
    // Prepare: the last worker wrote result.json, then died before marking the request succeeded.
    const id = await dispatched();
    const lapsed = new Date(Date.now() - 1_000).toISOString();
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'running',
      attempt: 2,
      worker_id: 'w-1',
      lease: { token: 'dead-attempt', holder: 'w-1', expires_at: lapsed },
    }));
    const letters = await deadLetters();
    const work = WorkMessageSchema.parse(JSON.parse(letters[0]?.body ?? ''));
    const keys = requestKeys(id);
    const result = buildResult({
      work,
      engine: 'preview',
      workflow: null,
      frameKeys: Array.from({ length: work.geometry.frames }, (_, i) => keys.frame(i + 1)),
      videoBytes: undefined,
      timingsMs: { queued: 10, provision: 0, inference: 900, upload: 80, total: 1000 },
      gpuSeconds: 0.99,
      createdAt: new Date(),
    });
    await emulator.objects.put(keys.result, JSON.stringify(result), { contentType: 'application/json' });

    // Act: the letter arrives twice, as SQS may deliver it.
    const first = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));
    const second = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect([...first.batchItemFailures, ...second.batchItemFailures]).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      type: 'heritage.request.succeeded',
      status: 'succeeded',
      client_reference: `ref-${id}`,
      frames: { count: work.geometry.frames },
      gpu_seconds: 0.99,
    });
    const status = (await emulator.statuses.read(id))?.status;
    expect(status).toMatchObject({ state: 'succeeded', result_key: keys.result });
    expect(status?.lease).toBeUndefined();
  });

  it('leaves a request whose worker committed result.json but still holds its lease to that worker', async () => {
    // Prepare
    const id = await dispatched();
    const live = new Date(Date.now() + 60_000).toISOString();
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'running',
      attempt: 2,
      worker_id: 'w-1',
      lease: { token: 'live-attempt', holder: 'w-1', expires_at: live },
    }));
    const letters = await deadLetters();
    await emulator.objects.put(requestKeys(id).result, '{"version":1}', { contentType: 'application/json' });

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(await eventsFor(id)).toEqual([]);
    expect((await emulator.statuses.read(id))?.status.state).toBe('running');
  });

  it('fails a request no worker ever started with RETRIES_EXHAUSTED', async () => {
    // Prepare
    const id = await dispatched();
    const letters = await deadLetters();

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['RETRIES_EXHAUSTED']);
  });

  it('names the last retryable error when retries run out after workers handed the request back', async () => {
    // Prepare
    const id = await dispatched();
    const lastError = {
      code: 'ENGINE_CRASHED' as const,
      message: 'ComfyUI exited with signal 9',
      retryable: true,
    };
    await emulator.statuses.update(id, (current) => ({ ...current, state: 'running', attempt: 3 }));
    await emulator.statuses.update(id, (current) => ({ ...current, state: 'queued', last_error: lastError }));
    const letters = await deadLetters();

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    const [event] = await eventsFor(id);
    expect(event?.error).toMatchObject({
      code: 'RETRIES_EXHAUSTED',
      message: /last error ENGINE_CRASHED/,
      details: { attempts: 3, last_error: lastError },
    });
  });

  it('turns a poison message that names a request into exactly one failed event', async () => {
    // Prepare
    const id = await dispatched();
    await drainQueue(emulator.sqs, emulator.workQueueUrl);
    await emulator.sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.workQueueUrl,
        MessageBody: JSON.stringify({ request_id: id, version: 99 }),
      }),
    );
    const letters = await deadLetters();

    // Act
    const response = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters, ...letters));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    const accepted = (await emulator.statuses.read(id))?.status.parameters;
    expect(accepted?.steps).toBeGreaterThan(0);
    expect(published[0]).toMatchObject({
      status: 'failed',
      parameters: accepted,
      error: { code: 'RETRIES_EXHAUSTED' },
    });
  });

  it('publishes the event of a request that ended without it (a crash after its terminal mark)', async () => {
    // Prepare: the worker marked it failed a minute ago and died before the event.
    const id = await dispatched();
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'failed',
      updated_at: minuteAgo,
      error: { code: 'COMFYUI_NODE_ERROR', message: 'node 12 failed', retryable: false },
    }));
    const letters = await deadLetters();

    // Act: the letter arrives twice, as SQS may deliver it.
    const first = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));
    const second = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess: the recorded error, not a dead-letter code, and once.
    expect([first.batchItemFailures, second.batchItemFailures]).toEqual([[], []]);
    expect(
      (await eventsFor(id)).map((event) => [event.status, event.error?.code, event.client_reference]),
    ).toEqual([['failed', 'COMFYUI_NODE_ERROR', `ref-${id}`]]);
  });

  it('leaves a request a worker still holds to that worker, publishing nothing', async () => {
    // Prepare: running, its lease live for another minute.
    const id = await dispatched();
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'running',
      attempt: 1,
      worker_id: 'w-live',
      lease: { token: 't', holder: 'w-live', expires_at: new Date(Date.now() + 60_000).toISOString() },
    }));
    const letters = await deadLetters();

    // Act
    const response = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await emulator.statuses.read(id))?.status.state).toBe('running');
    expect(await eventsFor(id)).toEqual([]);
  });

  it('acknowledges a poison message that names no request, publishing nothing', async () => {
    // Prepare
    await emulator.sqs.send(
      new SendMessageCommand({ QueueUrl: emulator.workQueueUrl, MessageBody: 'garbage {{{' }),
    );
    const letters = await deadLetters();
    const before = (await events.drain()).length;

    // Act
    const response = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(await events.drain()).toHaveLength(before);
  });

  it('only logs a dead letter of a request that already succeeded', async () => {
    // Prepare
    const id = await dispatched();
    await emulator.statuses.update(id, (current) => ({ ...current, state: 'running' }));
    await emulator.statuses.update(id, (current) => ({
      ...current,
      state: 'succeeded',
      result_key: `outputs/${id}/result.json`,
    }));
    const letters = await deadLetters();

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(await eventsFor(id)).toEqual([]);
    expect((await emulator.statuses.read(id))?.status.state).toBe('succeeded');
  });
});

describe('dead-letter, for intake messages dispatch never got through', () => {
  async function intakeDeadLetters(key: string, etag?: string) {
    await emulator.sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.intakeQueueUrl,
        MessageBody: intakeRecord(key, etag === undefined ? {} : { etag }).body,
      }),
    );
    await crashUntilDeadLettered(emulator.sqs, emulator.intakeQueueUrl);
    return (await receiveAll(emulator.sqs, emulator.intakeDlqUrl)).map((letter) =>
      rawRecord(letter.body, letter.messageId),
    );
  }

  beforeEach(async () => {
    await drainQueue(emulator.sqs, emulator.intakeDlqUrl);
  });

  it('fails a request that was never claimed with RETRIES_EXHAUSTED, once', async () => {
    // Prepare
    ids += 1;
    const id = `intake-${ids}`;
    const key = await putRequest(emulator.objects, id, { client_reference: 'never-claimed' });
    const letters = await intakeDeadLetters(key);

    // Act
    const first = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));
    const second = await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect([...first.batchItemFailures, ...second.batchItemFailures]).toEqual([]);
    const published = await eventsFor(id);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      status: 'failed',
      client_reference: 'never-claimed',
      parameters: { steps: 8 },
      error: { code: 'RETRIES_EXHAUSTED' },
    });
    expect((await emulator.statuses.read(id))?.status.state).toBe('failed');
  });

  it('fails a request claimed but never enqueued', async () => {
    // Prepare
    ids += 1;
    const id = `intake-${ids}`;
    const key = await putRequest(emulator.objects, id);
    const now = new Date().toISOString();
    await emulator.statuses.create({
      version: 1,
      request_id: id,
      state: 'queued',
      created_at: now,
      updated_at: now,
      seed: 9,
    });
    const letters = await intakeDeadLetters(key);

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect((await eventsFor(id)).map((event) => event.error?.code)).toEqual(['RETRIES_EXHAUSTED']);
  });

  it('rejects a manifest uploaded over a claimed id as REQUEST_ID_REUSED, leaving the claim alone', async () => {
    // Prepare: a claim not yet enqueued, then another manifest under its id whose dispatch kept failing.
    ids += 1;
    const id = `intake-${ids}`;
    const key = await putRequest(emulator.objects, id);
    const now = new Date().toISOString();
    const claim = {
      version: 1 as const,
      request_id: id,
      state: 'queued' as const,
      created_at: now,
      updated_at: now,
      seed: 9,
      manifest_etag: (await emulator.objects.head(key))?.etag ?? '',
      claimed_by: 'the-first-upload',
    };
    await emulator.statuses.create(claim);
    await putRequest(emulator.objects, id, { steps: 12 });
    const letters = await intakeDeadLetters(key, (await emulator.objects.head(key))?.etag);

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect((await eventsFor(id)).map((event) => [event.type, event.error?.code])).toEqual([
      ['heritage.upload.rejected', 'REQUEST_ID_REUSED'],
    ]);
    expect((await emulator.statuses.read(id))?.status).toEqual(claim);
  });

  it('leaves a request whose work message went out to its worker', async () => {
    // Prepare
    const id = await dispatched();
    const letters = await intakeDeadLetters(`inbox/${id}/manifest.json`);

    // Act
    await processDeadLetters(deadLetterDeps(), sqsEvent(...letters));

    // Assess
    expect(await eventsFor(id)).toEqual([]);
    expect((await emulator.statuses.read(id))?.status.state).toBe('queued');
  });
});
