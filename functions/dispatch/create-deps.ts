/** Wires dispatch to AWS from its configuration: called once, on the first invocation. */
import { BatchWorkerLauncher } from '../../adapters/aws/batch-worker-launcher.js';
import { SqsWorkQueue } from '../../adapters/aws/sqs-work-queue.js';
import { DEFAULT_OUTBOX_LEASE_MS } from '../../contracts/terminal-event.js';
import { createAwsClients } from '../aws-clients.js';
import { createObservability } from '../observability.js';
import { createRequestStores } from '../request-stores.js';
import { loadDispatchConfig } from './config.js';
import type { IntakeDeps } from './process-intake.js';

export function createDispatchDeps(env: Record<string, string | undefined> = process.env): IntakeDeps {
  const config = loadDispatchConfig(env);
  const { logger, metrics, tracer } = createObservability(config.POWERTOOLS_SERVICE_NAME);
  const aws = createAwsClients(tracer, config.AWS_ENDPOINT_URL);
  return {
    ...createRequestStores(aws, config),
    workQueue: new SqsWorkQueue(aws.sqs, config.WORK_QUEUE_URL),
    launcher: new BatchWorkerLauncher({
      batch: aws.batch,
      jobQueue: config.JOB_QUEUE,
      jobDefinition: config.JOB_DEFINITION,
    }),
    maxWorkers: config.MAX_WORKERS,
    imageWaitReceives: config.IMAGE_WAIT_RECEIVES,
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
    logger,
    metrics,
    now: () => new Date(),
  };
}
