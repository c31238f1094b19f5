/** Wires dead-letter to AWS from its configuration: called once, on the first invocation. */
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../../adapters/aws/sns-event-publisher.js';
import { ObjectStatusStore } from '../../adapters/status/object-status-store.js';
import { createAwsClients } from '../aws-clients.js';
import { createObservability } from '../observability.js';
import { DEFAULT_OUTBOX_LEASE_MS } from '../terminal-event.js';
import { loadDeadLetterConfig } from './config.js';
import type { DeadLetterDeps } from './fail-dead-letter.js';

export function createDeadLetterDeps(env: Record<string, string | undefined> = process.env): DeadLetterDeps {
  const config = loadDeadLetterConfig(env);
  const { logger, metrics, tracer } = createObservability(config.POWERTOOLS_SERVICE_NAME);
  const aws = createAwsClients(tracer, config.AWS_ENDPOINT_URL);
  const objects = new S3ObjectStore(aws.s3, config.REQUEST_BUCKET);
  return {
    bucket: config.REQUEST_BUCKET,
    objects,
    statuses: new ObjectStatusStore(objects),
    events: new SnsEventPublisher(aws.sns, config.COMPLETIONS_TOPIC_ARN),
    logger,
    metrics,
    now: () => new Date(),
    leaseMs: DEFAULT_OUTBOX_LEASE_MS,
  };
}
