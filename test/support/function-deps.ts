/** Dependencies of the Lambda use cases wired to the emulator, with quiet Powertools. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchWorkerLauncher } from '../../adapters/aws/batch-worker-launcher.js';
import type { IntakeDeps } from '../../functions/dispatch/process-intake.js';
import type { BatchFake } from '../../local/testkit/batch-fake.js';
import type { Emulator } from './emulator.js';

export function quietObservability(): { logger: Logger; metrics: Metrics } {
  // EMF goes to stdout; tests read outcomes from S3, SQS and SNS instead.
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const logger = new Logger({ serviceName: 'heritage-test', logLevel: 'SILENT' });
  return {
    logger,
    metrics: new Metrics({ namespace: 'HeritageTest', serviceName: 'heritage-test', logger }),
  };
}

export function launcherFor(batch: BatchFake, overrides: { sleep?: (ms: number) => Promise<void> } = {}) {
  return new BatchWorkerLauncher({
    batch: batch.client,
    jobQueue: 'arn:aws:batch:us-east-1:123456789012:job-queue/heritage-workers',
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/heritage-worker:1',
    now: () => new Date('2026-11-24T01:02:03Z'),
    random: () => 0.5,
    sleep: overrides.sleep ?? (async () => {}),
  });
}

export function intakeDeps(
  emulator: Emulator,
  batch: BatchFake,
  overrides: Partial<IntakeDeps> = {},
): IntakeDeps {
  return {
    bucket: emulator.bucket,
    objects: emulator.objects,
    statuses: emulator.statuses,
    workQueue: emulator.workQueue,
    events: emulator.events,
    launcher: launcherFor(batch),
    maxWorkers: 4,
    imageWaitReceives: 3,
    leaseMs: 60_000,
    now: () => new Date(),
    randomSeed: () => 424242,
    ...quietObservability(),
    ...overrides,
  };
}
