import { ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../contracts/errors.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { launcherFor } from '../support/function-deps.js';

const JOB_QUEUE = 'arn:aws:batch:us-east-1:123456789012:job-queue/heritage-workers';
const JOB_DEFINITION = 'arn:aws:batch:us-east-1:123456789012:job-definition/heritage-worker:1';

function throttled(): Error {
  return Object.assign(new Error('Too Many Requests'), {
    name: 'ClientException',
    $fault: 'client',
    $metadata: { httpStatusCode: 429 },
  });
}

let batch: BatchFake;

beforeEach(() => {
  batch = fakeBatch();
});

afterEach(() => {
  batch.mock.restore();
});

/** Live jobs over two RUNNING pages and SUBMITTED: 1 + an array of 5 (2 running, 1 runnable) + an array of 3. */
function listSeveralPages(batch: BatchFake): void {
  batch.mock.on(ListJobsCommand).callsFake((input: { jobStatus?: string; nextToken?: string }) => {
    if (input.jobStatus === 'RUNNING' && input.nextToken === undefined) {
      return { jobSummaryList: [{ jobId: 'a', jobName: 'heritage-worker-1-1' }], nextToken: 'page-2' };
    }
    if (input.jobStatus === 'RUNNING') {
      return {
        jobSummaryList: [
          {
            jobId: 'b',
            jobName: 'heritage-worker-1-5',
            arrayProperties: { size: 5, statusSummary: { RUNNING: 2, SUCCEEDED: 2, RUNNABLE: 1 } },
          },
          { jobId: 'c', jobName: 'something-else' },
        ],
      };
    }
    if (input.jobStatus === 'SUBMITTED')
      return {
        jobSummaryList: [{ jobId: 'd', jobName: 'heritage-worker-2-3', arrayProperties: { size: 3 } }],
      };
    return { jobSummaryList: [] };
  });
}

describe('BatchWorkerLauncher', () => {
  it('submits one worker as a plain job with a deterministic name', async () => {
    // Act
    const launched = await launcherFor(batch).launch(1);

    // Assess
    expect(launched).toBe(1);
    expect(batch.mock.commandCalls(SubmitJobCommand).map((call) => call.args[0].input)).toEqual([
      { jobName: 'heritage-worker-202611240102-1', jobQueue: JOB_QUEUE, jobDefinition: JOB_DEFINITION },
    ]);
  });

  it('submits several workers as one array job', async () => {
    // Act
    await launcherFor(batch).launch(7);

    // Assess
    expect(batch.mock.commandCalls(SubmitJobCommand).map((call) => call.args[0].input)).toEqual([
      {
        jobName: 'heritage-worker-202611240102-7',
        jobQueue: JOB_QUEUE,
        jobDefinition: JOB_DEFINITION,
        arrayProperties: { size: 7 },
      },
    ]);
  });

  it('submits nothing for a count of zero', async () => {
    expect(await launcherFor(batch).launch(0)).toBe(0);
    expect(batch.mock.commandCalls(SubmitJobCommand)).toEqual([]);
  });

  it('counts live workers over every live status and page, an array job as its live children', async () => {
    // Prepare
    listSeveralPages(batch);

    // Act
    const live = await launcherFor(batch).liveWorkers();

    // Assess
    expect(live).toBe(1 + 3 + 3);
    expect(batch.mock.commandCalls(ListJobsCommand).map((call) => call.args[0].input)).toEqual([
      { jobQueue: JOB_QUEUE, jobStatus: 'SUBMITTED' },
      { jobQueue: JOB_QUEUE, jobStatus: 'PENDING' },
      { jobQueue: JOB_QUEUE, jobStatus: 'RUNNABLE' },
      { jobQueue: JOB_QUEUE, jobStatus: 'STARTING' },
      { jobQueue: JOB_QUEUE, jobStatus: 'RUNNING' },
      { jobQueue: JOB_QUEUE, jobStatus: 'RUNNING', nextToken: 'page-2' },
    ]);
  });

  it('tells the workers waiting for capacity from those running, an array job by its children', async () => {
    // Prepare
    listSeveralPages(batch);

    // Act
    const census = await launcherFor(batch).census();

    // Assess
    expect(census).toEqual({ live: 7, runnable: 1, running: 1 + 2 });
  });

  it('backs off with full jitter when Batch answers 429, then submits once', async () => {
    // Prepare
    batch.mock
      .on(SubmitJobCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ jobId: 'j', jobName: 'n' });
    const sleeps: number[] = [];

    // Act
    const launched = await launcherFor(batch, { sleep: async (ms) => void sleeps.push(ms) }).launch(2);

    // Assess
    expect(launched).toBe(2);
    expect(batch.mock.commandCalls(SubmitJobCommand)).toHaveLength(3);
    // random() is 0.5 in the factory: half of 200 ms, then half of 400 ms.
    expect(sleeps).toEqual([100, 200]);
  });

  it('gives up with a TransientError after its attempts when Batch keeps throttling', async () => {
    // Prepare
    batch.mock.on(SubmitJobCommand).rejects(throttled());

    // Act
    const launching = launcherFor(batch).launch(3);

    // Assess
    await expect(launching).rejects.toBeInstanceOf(TransientError);
    expect(batch.mock.commandCalls(SubmitJobCommand)).toHaveLength(5);
  });

  it('does not retry an error that is not throttling', async () => {
    // Prepare
    batch.mock.on(SubmitJobCommand).rejects(
      Object.assign(new Error('job queue is disabled'), {
        name: 'ClientException',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const launching = launcherFor(batch).launch(1);

    // Assess
    await expect(launching).rejects.toThrow('job queue is disabled');
    expect(batch.mock.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });
});
