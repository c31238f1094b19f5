/**
 * The three Lambda functions around the GPU fleet: dispatch (intake queue), dead-letter (work DLQ)
 * and reconcile (every minute and on every worker job state change). Each gets only what its
 * handler uses, scoped to prefixes and ARNs.
 */
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import type * as batch from 'aws-cdk-lib/aws-batch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INBOX_PREFIX, OUTPUTS_PREFIX, REQUESTS_PREFIX } from '../../contracts/keys.js';
import { HeritageFunction } from './heritage-function.js';
import { WORK_MESSAGE_RETENTION } from './messaging.js';
import { allowListing, allowObjects } from './object-access.js';
import { allowPublish } from './topic-access.js';

export const DISPATCH_TIMEOUT = Duration.seconds(60);
export const DEAD_LETTER_TIMEOUT = Duration.seconds(30);
export const RECONCILE_TIMEOUT = Duration.seconds(60);
/** Dispatch submits Batch jobs: two at a time is plenty and keeps SubmitJob far below its rate limit. */
export const DISPATCH_CONCURRENCY = 2;
/** Reconcile must never race itself into submitting twice the workers. */
export const RECONCILE_CONCURRENCY = 1;

export interface ControlPlaneProps {
  readonly functionsDirectory: string;
  readonly requestBucket: s3.IBucket;
  readonly intakeQueue: sqs.IQueue;
  readonly workQueue: sqs.IQueue;
  readonly intakeDeadLetterQueue: sqs.IQueue;
  readonly workDeadLetterQueue: sqs.IQueue;
  readonly completionsTopic: sns.ITopic;
  readonly topicKey: kms.IKey;
  readonly jobQueue: batch.IJobQueue;
  readonly jobDefinition: batch.IJobDefinition;
  readonly maxWorkers: number;
  readonly requestTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
}

export class ControlPlane extends Construct {
  readonly dispatch: HeritageFunction;
  readonly deadLetter: HeritageFunction;
  readonly reconcile: HeritageFunction;
  readonly jobStateRule: events.Rule;
  readonly scheduleRule: events.Rule;

  constructor(scope: Construct, id: string, props: ControlPlaneProps) {
    super(scope, id);

    const entry = (name: string) => path.join(props.functionsDirectory, name, 'handler.ts');
    const scaling = {
      REQUEST_BUCKET: props.requestBucket.bucketName,
      WORK_QUEUE_URL: props.workQueue.queueUrl,
      COMPLETIONS_TOPIC_ARN: props.completionsTopic.topicArn,
      JOB_QUEUE: props.jobQueue.jobQueueArn,
      JOB_DEFINITION: props.jobDefinition.jobDefinitionArn,
      MAX_WORKERS: String(props.maxWorkers),
      REQUEST_TIMEOUT_SECONDS: String(props.requestTimeout.toSeconds()),
    };

    this.dispatch = new HeritageFunction(this, 'Dispatch', {
      entry: entry('dispatch'),
      description: 'Heritage dispatch: validates inbox manifests, queues work, scales GPU workers',
      timeout: DISPATCH_TIMEOUT,
      environment: scaling,
      logRetention: props.logRetention,
      reservedConcurrentExecutions: DISPATCH_CONCURRENCY,
    });
    this.dispatch.function.addEventSource(
      new SqsEventSource(props.intakeQueue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: DISPATCH_CONCURRENCY,
      }),
    );
    this.allowScaling(this.dispatch, props);

    this.deadLetter = new HeritageFunction(this, 'DeadLetter', {
      entry: entry('dead-letter'),
      description:
        'Heritage dead-letter: fails the requests whose intake or work message exhausted its deliveries',
      timeout: DEAD_LETTER_TIMEOUT,
      environment: {
        REQUEST_BUCKET: props.requestBucket.bucketName,
        COMPLETIONS_TOPIC_ARN: props.completionsTopic.topicArn,
      },
      logRetention: props.logRetention,
    });
    for (const queue of [props.intakeDeadLetterQueue, props.workDeadLetterQueue]) {
      this.deadLetter.function.addEventSource(
        new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }),
      );
    }
    // Reads the manifest of an intake dead letter, for the failed event's parameters.
    allowObjects(this.deadLetter.role, props.requestBucket, INBOX_PREFIX, ['s3:GetObject']);
    allowObjects(this.deadLetter.role, props.requestBucket, REQUESTS_PREFIX, [
      's3:GetObject',
      's3:PutObject',
    ]);
    allowObjects(this.deadLetter.role, props.requestBucket, OUTPUTS_PREFIX, ['s3:GetObject']);
    allowListing(this.deadLetter.role, props.requestBucket);
    allowPublish(this.deadLetter.role, props.completionsTopic, props.topicKey);

    this.reconcile = new HeritageFunction(this, 'Reconcile', {
      entry: entry('reconcile'),
      description: 'Heritage reconcile: submits workers when work waits and none are alive',
      timeout: RECONCILE_TIMEOUT,
      environment: {
        ...scaling,
        WORK_MESSAGE_RETENTION_SECONDS: String(WORK_MESSAGE_RETENTION.toSeconds()),
      },
      logRetention: props.logRetention,
      reservedConcurrentExecutions: RECONCILE_CONCURRENCY,
    });
    this.allowScaling(this.reconcile, props);
    // Reads result.json to finish the event of a succeeded request whose event did not go out.
    allowObjects(this.reconcile.role, props.requestBucket, OUTPUTS_PREFIX, ['s3:GetObject']);

    const reconcileTarget = new targets.LambdaFunction(this.reconcile.function, { retryAttempts: 2 });
    this.scheduleRule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'Heritage: self-heal the worker pool every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [reconcileTarget],
    });
    this.jobStateRule = new events.Rule(this, 'WorkerJobStateChange', {
      description: 'Heritage: a worker job that ended drives reconcile',
      eventPattern: {
        source: ['aws.batch'],
        detailType: ['Batch Job State Change'],
        // A worker ending is when the pool may fall below the backlog; earlier states only add noise.
        detail: { jobQueue: [props.jobQueue.jobQueueArn], status: ['SUCCEEDED', 'FAILED'] },
      },
      targets: [reconcileTarget],
    });
  }

  /** What dispatch and reconcile share: read inbox, track status, queue work, publish, submit workers. */
  private allowScaling(fn: HeritageFunction, props: ControlPlaneProps): void {
    allowObjects(fn.role, props.requestBucket, INBOX_PREFIX, ['s3:GetObject']);
    allowObjects(fn.role, props.requestBucket, REQUESTS_PREFIX, ['s3:GetObject', 's3:PutObject']);
    allowListing(fn.role, props.requestBucket);
    props.workQueue.grantSendMessages(fn.role);
    allowPublish(fn.role, props.completionsTopic, props.topicKey);
    fn.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['batch:SubmitJob'],
        resources: [props.jobQueue.jobQueueArn, props.jobDefinition.jobDefinitionArn],
      }),
    );
    // ListJobs takes no resource; it lives in its own policy so that its acknowledgement covers nothing else.
    const listJobs = new iam.Policy(fn, 'ListJobsPolicy', {
      roles: [fn.role],
      statements: [new iam.PolicyStatement({ actions: ['batch:ListJobs'], resources: ['*'] })],
    });
    Validations.of(listJobs).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'batch:ListJobs supports no resource-level permissions; it only reads the job queue the env names.',
    });
  }
}
