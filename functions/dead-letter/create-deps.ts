/** Wires dead-letter to AWS from its configuration: called once, on the first invocation. */

import { DEFAULT_OUTBOX_LEASE_MS } from '../../contracts/lifecycle/terminal-event.js';
import { createAwsClients } from '../aws-clients.js';
import { createObservability } from '../observability.js';
import { createRequestStores } from '../request-stores.js';
import { loadDeadLetterConfig } from './config.js';
import type { DeadLetterDeps } from './fail-dead-letter.js';

export function createDeadLetterDeps(env: Record<string, string | undefined> = process.env): DeadLetterDeps {
  const config = loadDeadLetterConfig(env);
  const { logger, metrics, tracer } = createObservability(config.POWERTOOLS_SERVICE_NAME);
  const aws = createAwsClients(tracer, config.AWS_ENDPOINT_URL);
  return {
    ...createRequestStores(aws, config),
    logger,
    metrics,
    now: () => new Date(),
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
  };
}
