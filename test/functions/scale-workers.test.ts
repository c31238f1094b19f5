import { ListJobsCommand } from '@aws-sdk/client-batch';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scaleWorkers } from '../../functions/dispatch/scale-workers.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { launcherFor } from '../support/function-deps.js';

let emulator: Emulator;
let batch: BatchFake;

async function queueWork(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await emulator.sqs.send(
      new SendMessageCommand({ QueueUrl: emulator.workQueueUrl, MessageBody: `{"n":${i}}` }),
    );
  }
}

function deps(maxWorkers: number) {
  return { workQueue: emulator.workQueue, launcher: launcherFor(batch), maxWorkers };
}

beforeEach(async () => {
  emulator = await startEmulator();
  batch = fakeBatch();
});

afterEach(async () => {
  batch.mock.restore();
  await emulator.stop();
});

describe('scaleWorkers', () => {
  it('launches the backlog not yet covered by live workers', async () => {
    // Prepare
    await queueWork(6);
    batch.addLiveJob({ jobId: 'a', jobName: 'heritage-worker-x-1', status: 'RUNNING' });

    // Act
    const decision = await scaleWorkers(deps(10));

    // Assess
    expect(decision).toEqual({ backlog: 6, live: 1, launched: 5 });
    expect(batch.submitted.map((input) => input.arrayProperties?.size)).toEqual([5]);
  });

  it('never goes past maxWorkers', async () => {
    // Prepare
    await queueWork(12);

    // Act
    const first = await scaleWorkers(deps(4));
    const second = await scaleWorkers(deps(4));

    // Assess
    expect([first.launched, second.launched]).toEqual([4, 0]);
  });

  it('adds no more than maxNew in one call', async () => {
    // Prepare
    await queueWork(12);

    // Act
    const decision = await scaleWorkers(deps(20), { maxNew: 3 });

    // Assess
    expect(decision.launched).toBe(3);
  });

  it('counts messages in flight as backlog', async () => {
    // Prepare
    await queueWork(2);
    await emulator.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.workQueueUrl,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 300,
      }),
    );

    // Act
    const decision = await scaleWorkers(deps(20));

    // Assess
    expect(decision).toEqual({ backlog: 2, live: 0, launched: 2 });
  });

  it('asks Batch nothing when there is no work', async () => {
    // Act
    const decision = await scaleWorkers(deps(20));

    // Assess
    expect(decision).toEqual({ backlog: 0, live: 0, launched: 0 });
    expect(batch.mock.commandCalls(ListJobsCommand)).toEqual([]);
  });
});
