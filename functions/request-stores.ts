/** The request bucket and completion topic as every function sees them: objects, statuses, events. */
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../adapters/aws/sns-event-publisher.js';
import { ObjectStatusStore } from '../contracts/lifecycle/status-store.js';
import type { FunctionAwsClients } from './aws-clients.js';

export function createRequestStores(
  aws: FunctionAwsClients,
  config: { REQUEST_BUCKET: string; COMPLETIONS_TOPIC_ARN: string },
) {
  const objects = new S3ObjectStore(aws.s3, config.REQUEST_BUCKET);
  return {
    bucket: config.REQUEST_BUCKET,
    objects,
    statuses: new ObjectStatusStore(objects),
    events: new SnsEventPublisher(aws.sns, config.COMPLETIONS_TOPIC_ARN),
  };
}
