/** What dispatch and reconcile need to scale workers: the work queue's backlog and the Batch launcher. */
import { BatchWorkerLauncher } from '../adapters/aws/batch-worker-launcher.js';
import { SqsWorkQueue } from '../adapters/aws/sqs-work-queue.js';
import type { FunctionAwsClients } from './aws-clients.js';

export function createWorkerScaling(
  aws: FunctionAwsClients,
  config: { WORK_QUEUE_URL: string; JOB_QUEUE: string; JOB_DEFINITION: string; MAX_WORKERS: number },
) {
  return {
    workQueue: new SqsWorkQueue(aws.sqs, config.WORK_QUEUE_URL),
    launcher: new BatchWorkerLauncher({
      batch: aws.batch,
      jobQueue: config.JOB_QUEUE,
      jobDefinition: config.JOB_DEFINITION,
    }),
    maxWorkers: config.MAX_WORKERS,
  };
}
