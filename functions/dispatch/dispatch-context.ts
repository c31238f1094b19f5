/** What the dispatch use case depends on and works with, shared by its steps. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventPublisher } from '../../contracts/ports.js';
import type { ClaimDeps } from './claim-request.js';

export interface DispatchDeps extends ClaimDeps {
  events: EventPublisher;
  logger: Logger;
  metrics: Metrics;
  /** Receives of one intake message before a missing image is final: images may still be uploading. */
  imageWaitReceives: number;
  /** Age after which another delivery may finish a claim or an event publication left unfinished. */
  leaseMs: number;
  randomSeed?: () => number;
}

export interface DispatchInput {
  bucket: string;
  key: string;
  /** The manifest's ETag in the S3 event: which upload of the key this is. */
  etag?: string | undefined;
  /** The intake SQS message id: stable across redeliveries of the same message. */
  deliveryId: string;
  /** Unique to this handling of the record: the owner of any event it publishes (two deliveries of one message never share one). */
  attemptId: string;
  /** SQS ApproximateReceiveCount of the intake message. */
  receiveCount: number;
}

export type DispatchResult = 'accepted' | 'duplicate' | 'rejected' | 'ignored';

/** One manifest being dispatched: its request id and a logger that puts that id on every line. */
export interface DispatchContext {
  deps: DispatchDeps;
  input: DispatchInput;
  requestId: string;
  log: Logger;
}
