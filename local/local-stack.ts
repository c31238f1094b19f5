/**
 * The whole pipeline on this machine (docs/architecture.md, "Local stack"): the AWS stand-in, the S3 notification stand-in, the
 * intake event source running the real dispatch handler, workers as child processes in place of Batch,
 * and the work dead-letter queue running the real dead-letter handler.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { ConfigInvalidError } from '../contracts/errors.js';
import { ObjectStatusStore } from '../contracts/lifecycle/status-store.js';
import { type AwsClients, localAwsClients } from './aws-clients.js';
import { EventSourcePoller } from './event-source-poller.js';
import { LOCAL_CREDENTIALS, type LocalAws, type LocalAwsOptions, startLocalAws } from './local-aws.js';
import { createLocalFunctions } from './local-functions.js';
import { LocalWorkerLauncher, type WorkerExit } from './local-worker-launcher.js';
import { S3NotificationBridge } from './s3-notification-bridge.js';

export interface LocalStackOptions extends LocalAwsOptions {
  /** Most local workers at once; 0 launches none, for workers run some other way (a container). */
  maxWorkers?: number;
  /** A worker exits after this long without work (scale to zero). */
  idleTimeoutSeconds?: number;
  requestTimeoutSeconds?: number;
  /** Use this ComfyUI; without it workers run the CPU preview engine. */
  comfyUiUrl?: string;
  /** Where worker logs and work directories go. */
  workDir?: string;
  /** How often the scheduled reconcile runs (every minute in the cloud). */
  reconcileIntervalSeconds?: number;
  /**
   * Let the in-process functions emit their metrics (EMF lines on this process's stdout, as in Lambda).
   * Off by default, so that they never mix with a command's output; the chaos drill collects them.
   */
  functionMetrics?: boolean;
  /** Called for errors in the background loops (bridge, pollers); they keep running. */
  onError?: (source: string, error: unknown) => void;
  onWorkerExit?: (exit: WorkerExit) => void;
  /** Run workers with this command instead of the worker's TypeScript source (e.g. the image's bundle). */
  workerCommand?: { file: string; args: string[] };
  /** Variables workers get on top of the stack's own (e.g. the GPU image's environment). */
  workerEnv?: Record<string, string>;
  /**
   * Puts something between the deployables (workers, functions) and the AWS stand-in, such as the
   * fault-injecting proxy of the chaos suite: given the stand-in's endpoint, returns the one they use.
   */
  interpose?: (endpoint: string) => Promise<string>;
}

export interface LocalStack {
  aws: LocalAws;
  clients: AwsClients;
  objects: S3ObjectStore;
  statuses: ObjectStatusStore;
  launcher: LocalWorkerLauncher;
  /** The environment a deployable needs to run against this stack. */
  env: Record<string, string>;
  workDir: string;
  stop(): Promise<void>;
}

/** COMFYUI_URL selects the ComfyUI engine; unset or empty means the preview engine, as for the worker. */
export function comfyUiUrlFromEnv(env: Record<string, string | undefined> = process.env): string | undefined {
  const url = env.COMFYUI_URL?.trim();
  return url === undefined || url === '' ? undefined : url;
}

/** The variables every deployable reads, pointing at the local stack. */
export function localEnvironment(aws: LocalAws, options: LocalStackOptions): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_DEFAULT_REGION: aws.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    REQUEST_BUCKET: aws.bucket,
    WORK_QUEUE_URL: aws.workQueueUrl,
    COMPLETIONS_TOPIC_ARN: aws.topicArn,
    MODEL_BUCKET: aws.modelBucket,
    // The functions' own setting must be positive; a stack of maxWorkers 0 simply never launches.
    MAX_WORKERS: String(Math.max(1, options.maxWorkers ?? 1)),
    IDLE_TIMEOUT_SECONDS: String(options.idleTimeoutSeconds ?? 30),
    REQUEST_TIMEOUT_SECONDS: String(options.requestTimeoutSeconds ?? 900),
    // No Batch locally: the launcher below takes its place. These name it in logs only.
    JOB_QUEUE: `arn:aws:batch:${aws.region}:000000000000:job-queue/heritage-local`,
    JOB_DEFINITION: `arn:aws:batch:${aws.region}:000000000000:job-definition/heritage-local:1`,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    ...(options.comfyUiUrl === undefined ? {} : { COMFYUI_URL: options.comfyUiUrl }),
    ...(options.workVisibilitySeconds === undefined
      ? {}
      : { WORK_VISIBILITY_SECONDS: String(options.workVisibilitySeconds) }),
  };
}

/** The emulator needs node:sqlite (Node 22.5+); `npm ci` installs that Node into node_modules/.bin. */
function assertNodeVersion(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 5)) {
    throw new ConfigInvalidError(
      `the local stack needs Node 22.5 or later, this is ${process.versions.node}: ` +
        'run it through npm (npm run demo, npx heritage ...), which uses the Node that npm ci installed',
    );
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  assertNodeVersion();
  const requestTimeoutSeconds = options.requestTimeoutSeconds ?? 900;
  // The work queue's visibility is the request timeout plus room to upload, as the cloud stack sets it.
  const aws = await startLocalAws({ workVisibilitySeconds: requestTimeoutSeconds + 120, ...options });
  const clients = localAwsClients(aws.endpoint);
  let endpoint: string;
  try {
    endpoint = options.interpose === undefined ? aws.endpoint : await options.interpose(aws.endpoint);
  } catch (error) {
    for (const client of Object.values(clients)) client.destroy();
    await aws.stop();
    throw error;
  }
  const env = localEnvironment({ ...aws, endpoint }, options);
  const workDir = options.workDir ?? join(tmpdir(), `heritage-local-${process.pid}`);
  const report = (source: string) => (error: unknown) => options.onError?.(source, error);
  const launcher = new LocalWorkerLauncher({
    maxWorkers: options.maxWorkers ?? 1,
    // One JSON line per log record and per metrics record in the worker logs, whatever this process
    // uses: the worker's EMF is what CloudWatch would read (demo --json reports it).
    env: {
      ...env,
      POWERTOOLS_SERVICE_NAME: 'heritage-worker',
      POWERTOOLS_DEV: 'false',
      POWERTOOLS_METRICS_DISABLED: 'false',
      ...options.workerEnv,
    },
    logDir: join(workDir, 'workers'),
    ...(options.workerCommand === undefined ? {} : { command: options.workerCommand }),
    ...(options.onWorkerExit === undefined ? {} : { onExit: options.onWorkerExit }),
  });
  // The functions run in this process and build their SDK clients from the environment, as in Lambda.
  // No CloudWatch locally: metrics off unless asked for, and logs through console (warnings and errors
  // on stderr), so they never write into the CLI's stdout.
  Object.assign(process.env, {
    AWS_REGION: env.AWS_REGION,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    POWERTOOLS_METRICS_DISABLED: options.functionMetrics === true ? 'false' : 'true',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL,
  });
  const functions = createLocalFunctions(env, launcher);
  const bridge = new S3NotificationBridge({
    s3: clients.s3,
    sqs: clients.sqs,
    bucket: aws.bucket,
    region: aws.region,
    queueUrl: aws.intakeQueueUrl,
    onError: report('s3-notifications'),
  });
  const intake = new EventSourcePoller({
    sqs: clients.sqs,
    queueUrl: aws.intakeQueueUrl,
    region: aws.region,
    functionName: 'heritage-dispatch',
    handler: functions.dispatch,
    onError: report('dispatch'),
  });
  // Dead-letter drains both DLQs, as in the cloud stack.
  const deadLetters = [aws.workDlqUrl, aws.intakeDlqUrl].map(
    (queueUrl) =>
      new EventSourcePoller({
        sqs: clients.sqs,
        queueUrl,
        region: aws.region,
        functionName: 'heritage-dead-letter',
        handler: functions.deadLetter,
        onError: report('dead-letter'),
      }),
  );
  bridge.start();
  intake.start();
  for (const poller of deadLetters) poller.start();
  const reconcileTimer = setInterval(
    () => {
      functions.reconcile().catch(report('reconcile'));
    },
    (options.reconcileIntervalSeconds ?? 30) * 1000,
  );
  const objects = new S3ObjectStore(clients.s3, aws.bucket);
  return {
    aws,
    clients,
    objects,
    statuses: new ObjectStatusStore(objects),
    launcher,
    env,
    workDir,
    async stop() {
      clearInterval(reconcileTimer);
      await bridge.stop();
      await Promise.all([intake, ...deadLetters].map((poller) => poller.stop()));
      await launcher.stopAll();
      for (const client of Object.values(clients)) client.destroy();
      await aws.stop();
    },
  };
}
