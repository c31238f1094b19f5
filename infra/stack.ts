/** The whole Heritage pipeline (docs/architecture.md) in one stack: storage, queues, Lambdas, GPU fleet, alarms. */
import * as path from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../contracts/metrics.js';
import type { StackOutputKey } from '../contracts/stack-outputs.js';
import type { HeritageConfig } from './config.js';
import { ControlPlane, DEAD_LETTER_TIMEOUT, DISPATCH_TIMEOUT } from './constructs/control-plane.js';
import { Messaging } from './constructs/messaging.js';
import { Network } from './constructs/network.js';
import { allowListing, allowObjects } from './constructs/object-access.js';
import { Observability } from './constructs/observability.js';
import { Storage } from './constructs/storage.js';
import { allowPublish } from './constructs/topic-access.js';
import { REPOSITORY_ROOT, WorkerFleet } from './constructs/worker-fleet.js';
import { sizeWorker } from './sizing.js';

export interface HeritageStackProps extends StackProps {
  readonly config: HeritageConfig;
  /** Overrides for tests; the app uses the repository's functions/ and its root as the image context. */
  readonly functionsDirectory?: string;
  readonly imageContext?: string;
}

export class HeritageStack extends Stack {
  readonly messaging: Messaging;
  readonly storage: Storage;
  readonly network: Network;
  readonly workers: WorkerFleet;
  readonly controlPlane: ControlPlane;
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: HeritageStackProps) {
    super(scope, id, props);
    const { config } = props;
    const sizing = sizeWorker({
      instanceTypes: config.instanceTypes,
      maxWorkers: config.maxWorkers,
      sharedMemoryMiB: config.sharedMemoryMiB,
    });
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    const requestTimeout = Duration.seconds(config.requestTimeoutSeconds);

    const messaging = new Messaging(this, 'Messaging', {
      intakeConsumerTimeout: DISPATCH_TIMEOUT,
      deadLetterConsumerTimeout: DEAD_LETTER_TIMEOUT,
      requestTimeout,
      workMaxReceiveCount: config.workMaxReceiveCount,
    });
    const storage = new Storage(this, 'Storage', {
      inboxRetentionDays: config.inboxRetentionDays,
      outputRetentionDays: config.outputRetentionDays,
      modelBucketName: config.modelBucketName,
      intakeQueue: messaging.intakeQueue,
    });
    const network = new Network(this, 'Network', { vpcId: config.vpcId, logRetention });

    const fleet = new WorkerFleet(this, 'Workers', {
      vpc: network.vpc,
      subnets: network.workerSubnets,
      instanceTypes: config.instanceTypes,
      sizing,
      spot: config.spot,
      runnableTimeout: Duration.minutes(config.runnableTimeoutMinutes),
      attemptTimeout: Duration.seconds(config.jobAttemptTimeoutSeconds),
      logRetention,
      imageContext: props.imageContext ?? REPOSITORY_ROOT,
      requestBucket: storage.requestBucket,
      environment: {
        REQUEST_BUCKET: storage.requestBucket.bucketName,
        WORK_QUEUE_URL: messaging.workQueue.queueUrl,
        COMPLETIONS_TOPIC_ARN: messaging.completionsTopic.topicArn,
        REQUEST_TIMEOUT_SECONDS: String(config.requestTimeoutSeconds),
        IDLE_TIMEOUT_SECONDS: String(config.workerIdleTimeoutSeconds),
        MODEL_BUCKET: storage.modelBucket.bucketName,
        MODEL_PREFIX: config.modelPrefix,
        WORKFLOW: config.workflow,
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });
    this.allowWorker(fleet.jobRole, storage, messaging, config.modelPrefix);
    network.restrictEndpoints({
      requestBucket: storage.requestBucket,
      modelBucket: storage.modelBucket,
      imageRepositoryArn: fleet.imageRepositoryArn,
      workerLogGroupArn: fleet.logGroup.logGroupArn,
      workQueueArn: messaging.workQueue.queueArn,
      completionsTopicArn: messaging.completionsTopic.topicArn,
      requestAccessRoleArn: fleet.requestAccess.role.roleArn,
    });

    const controlPlane = new ControlPlane(this, 'ControlPlane', {
      functionsDirectory: props.functionsDirectory ?? path.join(REPOSITORY_ROOT, 'functions'),
      requestBucket: storage.requestBucket,
      intakeQueue: messaging.intakeQueue,
      workQueue: messaging.workQueue,
      intakeDeadLetterQueue: messaging.intakeDeadLetterQueue,
      workDeadLetterQueue: messaging.workDeadLetterQueue,
      completionsTopic: messaging.completionsTopic,
      topicKey: messaging.topicKey,
      jobQueue: fleet.jobQueue,
      jobDefinition: fleet.jobDefinition,
      maxWorkers: config.maxWorkers,
      requestTimeout,
      logRetention,
    });

    const observability = new Observability(this, 'Observability', {
      // Dashboard names are unique per account, not per Region.
      dashboardName: `${this.stackName}-${this.region}`,
      intakeQueue: messaging.intakeQueue,
      intakeDeadLetterQueue: messaging.intakeDeadLetterQueue,
      workQueue: messaging.workQueue,
      workDeadLetterQueue: messaging.workDeadLetterQueue,
      alarmTopic: messaging.alarmTopic,
      requestTimeout,
      gpuHourPrices: { onDemandUsd: config.gpuHourPriceUsd, spotUsd: config.spotGpuHourPriceUsd },
      requestLogGroups: [
        controlPlane.dispatch.logGroup,
        fleet.logGroup,
        controlPlane.deadLetter.logGroup,
        controlPlane.reconcile.logGroup,
      ],
    });
    if (config.alarmEmail) {
      messaging.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }

    const bucket = storage.requestBucket.bucketName;
    const outputs: Record<StackOutputKey, string> = {
      RequestBucketName: bucket,
      ModelBucketName: storage.modelBucket.bucketName,
      ModelPrefix: config.modelPrefix,
      CompletionsTopicArn: messaging.completionsTopic.topicArn,
      IntakeQueueUrl: messaging.intakeQueue.queueUrl,
      IntakeDeadLetterQueueUrl: messaging.intakeDeadLetterQueue.queueUrl,
      WorkQueueUrl: messaging.workQueue.queueUrl,
      WorkDeadLetterQueueUrl: messaging.workDeadLetterQueue.queueUrl,
      JobQueueArn: fleet.jobQueue.jobQueueArn,
      JobDefinitionArn: fleet.jobDefinition.jobDefinitionArn,
      AlarmTopicArn: messaging.alarmTopic.topicArn,
      DashboardName: observability.dashboard.dashboardName,
      FirstRequestCommand:
        `aws s3 cp start.png s3://${bucket}/inbox/first-request/start.png && ` +
        `aws s3 cp end.png s3://${bucket}/inbox/first-request/end.png && ` +
        `aws s3 cp manifest.json s3://${bucket}/inbox/first-request/manifest.json`,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, key, { value });

    this.messaging = messaging;
    this.storage = storage;
    this.network = network;
    this.workers = fleet;
    this.controlPlane = controlPlane;
    this.observability = observability;
  }

  /**
   * The worker container: drain the work queue, read models, publish events. It reaches the request
   * bucket only through the per-request role (WorkerFleet.requestAccess), never with this one.
   */
  private allowWorker(role: iam.Role, storage: Storage, messaging: Messaging, modelPrefix: string): void {
    messaging.workQueue.grantConsumeMessages(role);
    allowObjects(role, storage.modelBucket, modelPrefix, ['s3:GetObject']);
    allowListing(role, storage.modelBucket, [modelPrefix]);
    allowPublish(role, messaging.completionsTopic, messaging.topicKey);
    // No cloudwatch:PutMetricData: the worker's metrics are EMF lines in its log stream, which
    // CloudWatch Logs turns into metrics (docs/observability.md).
  }
}
