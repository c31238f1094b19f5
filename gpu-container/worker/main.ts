/**
 * Worker entry point. Builds the adapters from the environment and runs the loop.
 * Exit codes: 0 after an idle timeout or a drained shutdown; 1 on a fatal error; 2 on bad configuration.
 */
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { CALL_TIMEOUTS } from '../../adapters/aws/call-timeouts.js';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import { SnsEventPublisher } from '../../adapters/aws/sns-event-publisher.js';
import { SqsWorkQueue } from '../../adapters/aws/sqs-work-queue.js';
import { StsRequestAccess } from '../../adapters/aws/sts-request-access.js';
import { SharedRequestAccess } from '../../adapters/local/shared-request-access.js';
import { EmfRequestMetrics } from '../../adapters/metrics/emf-request-metrics.js';
import { isHeritageError } from '../../contracts/errors.js';
import type { RequestAccess } from '../../contracts/ports.js';
import { loadWorkerConfig, type WorkerConfig } from './config.js';
import type { FrameEngine } from './engines/engine.js';
import { engineKind, type StartedEngine, startEngine } from './engines/registry.js';
import { resolveFfmpegPath } from './ffmpeg.js';
import type { RunJobDeps } from './job/job-deps.js';
import { runWorkerLoop } from './job/worker-loop.js';
import { startLiveness } from './liveness.js';
import { describeError, type WorkerLog } from './log.js';
import { createWorkerLog } from './worker-logger.js';

/** SIGTERM to exit: Batch and spot give 30 s before SIGKILL; this leaves room to spare. */
const SHUTDOWN_DEADLINE_MS = 25_000;
/** As the work queue's own visibility (infra/constructs/messaging.ts): a full request plus 2 min. */
const VISIBILITY_MARGIN_SECONDS = 120;
const SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
const HEARTBEAT_INTERVAL_MS = 30_000;
/** The worker stops this long before its lease lapses, so clocks may differ by this much. */
const LEASE_MARGIN_MS = 10_000;

/** Per-request credentials where a role is configured (the cloud); the one shared store otherwise. */
function requestAccess(config: WorkerConfig, common: { endpoint?: string; region?: string }): RequestAccess {
  const s3Config = { ...common, forcePathStyle: config.AWS_ENDPOINT_URL !== undefined };
  if (config.REQUEST_ACCESS_ROLE_ARN === undefined) {
    return new SharedRequestAccess(new S3ObjectStore(new S3Client(s3Config), config.REQUEST_BUCKET));
  }
  return new StsRequestAccess({
    sts: new STSClient(common),
    roleArn: config.REQUEST_ACCESS_ROLE_ARN,
    bucket: config.REQUEST_BUCKET,
    s3Config,
  });
}

function buildDeps(
  config: WorkerConfig,
  engine: FrameEngine,
  ffmpegPath: string,
  log: WorkerLog,
): RunJobDeps {
  const common = {
    ...CALL_TIMEOUTS,
    ...(config.AWS_ENDPOINT_URL === undefined ? {} : { endpoint: config.AWS_ENDPOINT_URL }),
    ...(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
  };
  const visibilitySeconds =
    config.WORK_VISIBILITY_SECONDS ??
    Math.min(config.REQUEST_TIMEOUT_SECONDS + VISIBILITY_MARGIN_SECONDS, SQS_MAX_VISIBILITY_SECONDS);
  // Three beats per visibility window at least, so one late beat does not let the message go.
  const heartbeatIntervalMs = Math.min(HEARTBEAT_INTERVAL_MS, (visibilitySeconds * 1000) / 3);
  return {
    bucket: config.REQUEST_BUCKET,
    requests: requestAccess(config, common),
    queue: new SqsWorkQueue(new SQSClient(common), config.WORK_QUEUE_URL),
    events: new SnsEventPublisher(new SNSClient(common), config.COMPLETIONS_TOPIC_ARN),
    engine,
    log,
    metrics: new EmfRequestMetrics(),
    ffmpegPath,
    workerId: config.WORKER_ID ?? process.env.AWS_BATCH_JOB_ID ?? `${hostname()}-${process.pid}`,
    workDir: config.WORK_DIR,
    requestTimeoutMs: config.REQUEST_TIMEOUT_SECONDS * 1000,
    visibilitySeconds,
    heartbeatIntervalMs,
    // Up to four beats per lease, and the lease lapses at least a beat before the message's visibility
    // runs out, so a redelivery after a crash finds the request free. Other paths fail a running
    // request only once its lease lapsed; the worker stops a margin before that by its own clock.
    leaseMs: Math.round(Math.min(visibilitySeconds * 1000 - heartbeatIntervalMs, 4 * heartbeatIntervalMs)),
    leaseMarginMs: Math.round(Math.min(LEASE_MARGIN_MS, heartbeatIntervalMs / 2)),
    uploadConcurrency: config.UPLOAD_CONCURRENCY,
  };
}

async function main(): Promise<number> {
  const log = createWorkerLog(process.env.POWERTOOLS_SERVICE_NAME ?? 'heritage-worker');
  const shutdown = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (shutdown.signal.aborted) return;
    log.info('shutting down: no new work, releasing the request in flight', { signal });
    shutdown.abort(new Error(signal));
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let config: WorkerConfig;
  let deps: RunJobDeps;
  let started: StartedEngine | undefined;
  let gaveUp = false;
  let liveness: ReturnType<typeof startLiveness> | undefined;
  try {
    config = loadWorkerConfig();
    await mkdir(config.WORK_DIR, { recursive: true });
    liveness = startLiveness(config.WORK_DIR);
    const ffmpegPath = resolveFfmpegPath(config.FFMPEG_PATH);
    const kind = engineKind(config);
    log.info('worker starting', { engine: kind });
    liveness.update({ engine: kind });
    started = await startEngine({
      config,
      env: process.env,
      ffmpegPath,
      log,
      onGiveUp: (error) => {
        gaveUp = true;
        log.error('ComfyUI keeps dying: this worker stops so that another host takes the work', {
          error: describeError(error),
        });
        shutdown.abort(error);
      },
    });
    deps = buildDeps(config, started.engine, ffmpegPath, log);
  } catch (error) {
    log.error('worker cannot start', { error: describeError(error) });
    await started?.supervisor?.stop();
    await liveness?.stop();
    return isHeritageError(error) && error.code === 'CONFIG_INVALID' ? 2 : 1;
  }
  if (shutdown.signal.aborted) {
    await started.supervisor?.stop();
    await liveness.stop();
    return 0;
  }
  liveness.update({ phase: 'serving', comfy_url: started.comfyUrl ?? null });
  shutdown.signal.addEventListener('abort', () => liveness?.update({ phase: 'stopping' }), { once: true });
  log.info('worker started', { engine: deps.engine.name, worker_id: deps.workerId });
  try {
    const exit = await runWorkerLoop(
      deps,
      {
        idleTimeoutMs: config.IDLE_TIMEOUT_SECONDS * 1000,
        overlapDelivery: config.OVERLAP_DELIVERY,
        ...(started.provisionMs === undefined ? {} : { provisionMs: started.provisionMs }),
      },
      shutdown.signal,
    );
    log.info('worker exiting', { ...exit });
    return gaveUp ? 1 : 0;
  } catch (error) {
    log.error('worker failed', { error: describeError(error) });
    return 1;
  } finally {
    await started.supervisor?.stop();
    await liveness.stop();
  }
}

process.exitCode = await main();
