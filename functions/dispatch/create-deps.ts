/** Wires dispatch to AWS from its configuration: called once, on the first invocation. */
import { DEFAULT_OUTBOX_LEASE_MS } from '../../contracts/lifecycle/terminal-event.js';
import { createAwsClients } from '../aws-clients.js';
import { createObservability } from '../observability.js';
import { createRequestStores } from '../request-stores.js';
import { createWorkerScaling } from '../worker-scaling.js';
import { loadDispatchConfig } from './config.js';
import type { IntakeDeps } from './process-intake.js';

export function createDispatchDeps(env: Record<string, string | undefined> = process.env): IntakeDeps {
  const config = loadDispatchConfig(env);
  const { logger, metrics, tracer } = createObservability(config.POWERTOOLS_SERVICE_NAME);
  const aws = createAwsClients(tracer, config.AWS_ENDPOINT_URL);
  return {
    ...createRequestStores(aws, config),
    ...createWorkerScaling(aws, config),
    imageWaitReceives: config.IMAGE_WAIT_RECEIVES,
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
    logger,
    metrics,
    now: () => new Date(),
  };
}
