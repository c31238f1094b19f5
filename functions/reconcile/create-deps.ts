/** Wires reconcile to AWS from its configuration: called once, on the first invocation. */
import { WORKER_JOB_PREFIX } from '../../adapters/aws/batch-worker-launcher.js';
import { DEFAULT_OUTBOX_LEASE_MS } from '../../contracts/lifecycle/terminal-event.js';
import { createAwsClients } from '../aws-clients.js';
import { createObservability } from '../observability.js';
import { createRequestStores } from '../request-stores.js';
import { createWorkerScaling } from '../worker-scaling.js';
import { loadReconcileConfig } from './config.js';
import type { ReconcileDeps } from './reconcile.js';

export function createReconcileDeps(env: Record<string, string | undefined> = process.env): ReconcileDeps {
  const config = loadReconcileConfig(env);
  const { logger, metrics, tracer } = createObservability(config.POWERTOOLS_SERVICE_NAME);
  const aws = createAwsClients(tracer, config.AWS_ENDPOINT_URL);
  return {
    ...createRequestStores(aws, config),
    ...createWorkerScaling(aws, config),
    requestTimeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
    workMessageRetentionMs: config.WORK_MESSAGE_RETENTION_SECONDS * 1000,
    maxStatusesScanned: config.RECONCILE_MAX_STATUSES,
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
    workerJobPrefix: WORKER_JOB_PREFIX,
    logger,
    metrics,
    now: () => new Date(),
  };
}
