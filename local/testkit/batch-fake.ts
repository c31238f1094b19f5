/**
 * AWS Batch through aws-sdk-client-mock (no emulator covers Batch): a job queue whose submitted jobs
 * stay live, so ListJobs sees what SubmitJob started. Every SubmitJob input is recorded for assertions.
 */
import {
  BatchClient,
  type JobSummary,
  ListJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

export interface BatchFake {
  client: BatchClient;
  mock: AwsClientStub<BatchClient>;
  submitted: SubmitJobCommandInput[];
  /** Jobs already live before the test, e.g. from another invocation. */
  addLiveJob(job: JobSummary): void;
}

export function fakeBatch(): BatchFake {
  const mock = mockClient(BatchClient);
  const submitted: SubmitJobCommandInput[] = [];
  const live: JobSummary[] = [];
  mock.on(SubmitJobCommand).callsFake((input: SubmitJobCommandInput) => {
    submitted.push(input);
    const jobId = `job-${submitted.length}`;
    const size = input.arrayProperties?.size;
    live.push({
      jobId,
      jobName: input.jobName,
      status: 'RUNNABLE',
      ...(size === undefined ? {} : { arrayProperties: { size, statusSummary: { RUNNABLE: size } } }),
    });
    return { jobId, jobName: input.jobName, jobArn: `arn:aws:batch:us-east-1:123456789012:job/${jobId}` };
  });
  mock.on(ListJobsCommand).callsFake((input: { jobStatus?: string }) => ({
    jobSummaryList: live.filter((job) => job.status === input.jobStatus),
  }));
  return {
    client: new BatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
    mock,
    submitted,
    addLiveJob: (job) => live.push(job),
  };
}
