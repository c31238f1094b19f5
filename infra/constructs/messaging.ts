/**
 * The intake and work queues, each with its dead-letter queue, and the KMS-encrypted `completions`
 * and alarm topics. Visibility timeouts follow from the consumers' timeouts.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { skipCheckov } from './checkov.js';

/** AWS's guidance for an SQS event source: at least six times the function timeout. */
export const LAMBDA_VISIBILITY_FACTOR = 6;
/** Room after the request timeout for the worker to upload frames and publish the event. */
export const WORK_VISIBILITY_MARGIN = Duration.minutes(2);
export const INTAKE_MAX_RECEIVE_COUNT = 5;
/** How long the work queue keeps a message; reconcile fails a request still queued past it (WORK_LOST). */
export const WORK_MESSAGE_RETENTION = Duration.days(4);
const SQS_MAX_VISIBILITY_SECONDS = 12 * 3600;

export interface MessagingProps {
  /** Timeout of the Lambda function that consumes the intake queue (dispatch). */
  readonly intakeConsumerTimeout: Duration;
  /** Timeout of the Lambda function that consumes both DLQs (dead-letter). */
  readonly deadLetterConsumerTimeout: Duration;
  readonly requestTimeout: Duration;
  readonly workMaxReceiveCount: number;
}

/** How long a work message stays hidden while a worker runs it; the worker heartbeats it longer. */
export function workVisibilityTimeout(requestTimeout: Duration): Duration {
  const seconds = requestTimeout.toSeconds() + WORK_VISIBILITY_MARGIN.toSeconds();
  return Duration.seconds(Math.min(seconds, SQS_MAX_VISIBILITY_SECONDS));
}

export class Messaging extends Construct {
  readonly intakeQueue: sqs.Queue;
  readonly intakeDeadLetterQueue: sqs.Queue;
  readonly workQueue: sqs.Queue;
  readonly workDeadLetterQueue: sqs.Queue;
  readonly topicKey: kms.Key;
  readonly completionsTopic: sns.Topic;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MessagingProps) {
    super(scope, id);

    const queueDefaults = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.DESTROY,
    } as const;
    // Both dead-letter queues feed the dead-letter function, so that every manifest ends in one event.
    const deadLetterDefaults = {
      ...queueDefaults,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(
        props.deadLetterConsumerTimeout.toSeconds() * LAMBDA_VISIBILITY_FACTOR,
      ),
    } as const;

    this.intakeDeadLetterQueue = new sqs.Queue(this, 'IntakeDeadLetter', deadLetterDefaults);
    this.intakeQueue = new sqs.Queue(this, 'Intake', {
      ...queueDefaults,
      visibilityTimeout: Duration.seconds(props.intakeConsumerTimeout.toSeconds() * LAMBDA_VISIBILITY_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.intakeDeadLetterQueue, maxReceiveCount: INTAKE_MAX_RECEIVE_COUNT },
    });

    this.workDeadLetterQueue = new sqs.Queue(this, 'WorkDeadLetter', deadLetterDefaults);
    this.workQueue = new sqs.Queue(this, 'Work', {
      ...queueDefaults,
      visibilityTimeout: workVisibilityTimeout(props.requestTimeout),
      retentionPeriod: WORK_MESSAGE_RETENTION,
      deadLetterQueue: { queue: this.workDeadLetterQueue, maxReceiveCount: props.workMaxReceiveCount },
    });
    for (const queue of [
      this.intakeDeadLetterQueue,
      this.intakeQueue,
      this.workDeadLetterQueue,
      this.workQueue,
    ]) {
      skipCheckov(queue, {
        id: 'CKV_AWS_27',
        comment:
          'Encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled), which this check does not recognise; a KMS key would need a key policy for S3 event notifications and adds cost per request.',
      });
    }

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Heritage completions and alarm topics',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch alarms publish to the encrypted alarm topic as a service, not through a role; only
    // alarms of this account and Region may (the confused-deputy conditions).
    const stack = Stack.of(this);
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
      },
    };
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOwnAlarms,
      }),
    );

    this.completionsTopic = new sns.Topic(this, 'Completions', {
      displayName: 'Heritage completions',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: 'Heritage alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL writes replaces SNS's default one, which let the account's alarms
    // publish; without this statement CloudWatch is refused ("no resource-based policy allows").
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: fromOwnAlarms,
      }),
    );
  }
}
