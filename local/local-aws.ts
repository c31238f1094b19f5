/**
 * The local AWS stand-in: fauxqs (S3, SQS, SNS over the real wire protocol) in-process, behind the
 * conditional-write gateway, with the same bucket, queues and topic the cloud stack creates. Both
 * listen on 127.0.0.1 only.
 */
import { startFauxqs } from 'fauxqs';
import { startConditionalWriteGateway } from './conditional-write-gateway.js';
import { onLoopback } from './loopback-only.js';

export const LOCAL_NAMES = {
  bucket: 'heritage-requests',
  modelBucket: 'heritage-models',
  intakeQueue: 'heritage-intake',
  intakeDlq: 'heritage-intake-dlq',
  workQueue: 'heritage-work',
  workDlq: 'heritage-work-dlq',
  topic: 'heritage-completions',
} as const;

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'heritage-local',
  secretAccessKey: 'heritage-local',
} as const;

export interface LocalAwsOptions {
  /** Port for the gateway clients talk to; 0 picks a free one. */
  port?: number;
  /** Receives before a work message moves to the work DLQ. */
  maxReceiveCount?: number;
  /** Receives before an intake message moves to the intake DLQ: above dispatch's wait for images (4). */
  intakeMaxReceiveCount?: number;
  workVisibilitySeconds?: number;
}

export interface LocalAws {
  /** The endpoint every SDK client uses (AWS_ENDPOINT_URL). */
  endpoint: string;
  /** The emulator's own endpoint, behind the gateway; clients never use it. */
  internalEndpoint: string;
  region: string;
  bucket: string;
  modelBucket: string;
  intakeQueueUrl: string;
  intakeDlqUrl: string;
  workQueueUrl: string;
  workDlqUrl: string;
  topicArn: string;
  /** Creates a queue subscribed to the completions topic and returns its URL. */
  subscribeQueue(name: string): string;
  stop(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const server = await onLoopback(() => startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION }));
  const intakeDlq = server.createQueue(LOCAL_NAMES.intakeDlq);
  const workDlq = server.createQueue(LOCAL_NAMES.workDlq);
  const redrive = (arn: string, maxReceiveCount: number) =>
    JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: String(maxReceiveCount) });
  const intake = server.createQueue(LOCAL_NAMES.intakeQueue, {
    attributes: {
      VisibilityTimeout: '30',
      RedrivePolicy: redrive(intakeDlq.queueArn, options.intakeMaxReceiveCount ?? 5),
    },
  });
  const work = server.createQueue(LOCAL_NAMES.workQueue, {
    attributes: {
      VisibilityTimeout: String(options.workVisibilitySeconds ?? 60),
      RedrivePolicy: redrive(workDlq.queueArn, options.maxReceiveCount ?? 3),
    },
  });
  const { topicArn } = server.createTopic(LOCAL_NAMES.topic);
  server.createBucket(LOCAL_NAMES.bucket);
  server.createBucket(LOCAL_NAMES.modelBucket);
  let gateway: Awaited<ReturnType<typeof startConditionalWriteGateway>>;
  try {
    gateway = await startConditionalWriteGateway(server.address, options.port ?? 0);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    endpoint: gateway.endpoint,
    internalEndpoint: server.address,
    region: LOCAL_REGION,
    bucket: LOCAL_NAMES.bucket,
    modelBucket: LOCAL_NAMES.modelBucket,
    intakeQueueUrl: intake.queueUrl,
    intakeDlqUrl: intakeDlq.queueUrl,
    workQueueUrl: work.queueUrl,
    workDlqUrl: workDlq.queueUrl,
    topicArn,
    subscribeQueue(name) {
      const queue = server.createQueue(name);
      server.subscribe({ topic: LOCAL_NAMES.topic, queue: name });
      return queue.queueUrl;
    },
    async stop() {
      await gateway.close();
      await server.stop();
    },
  };
}
