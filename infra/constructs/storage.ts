/**
 * The request bucket (inbox/, requests/, outputs/), the model bucket (or an existing one) and the
 * bucket their access logs go to. All block public access, refuse plain HTTP and encrypt at rest.
 */

import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INBOX_PREFIX, MANIFEST_NAME, OUTPUTS_PREFIX, REQUESTS_PREFIX } from '../../contracts/keys.js';
import { skipCheckov } from './checkov.js';
import { IntakeQueueDestination } from './intake-destination.js';

const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

export interface StorageProps {
  readonly inboxRetentionDays: number;
  readonly outputRetentionDays: number;
  /** Bring an existing model bucket; otherwise one is created. */
  readonly modelBucketName?: string | undefined;
  /** Receives the ObjectCreated events of inbox manifests. */
  readonly intakeQueue: sqs.IQueue;
}

const SECURE_DEFAULTS = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  encryption: s3.BucketEncryption.S3_MANAGED,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const;

export class Storage extends Construct {
  readonly requestBucket: s3.Bucket;
  readonly modelBucket: s3.IBucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...SECURE_DEFAULTS,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log destination; logging it into itself would loop.',
    });
    skipCheckov(
      this.accessLogsBucket,
      { id: 'CKV_AWS_18', comment: 'This is the access log destination; logging it into itself would loop.' },
      {
        id: 'CKV_AWS_21',
        comment:
          'Access logs are written once by the S3 log delivery and expire after 90 days; versions add nothing.',
      },
    );

    // Not versioned: inbox/ and outputs/ are written once and expire, and status.json is rewritten on
    // every progress step by design, so old versions would only accumulate cost.
    this.requestBucket = new s3.Bucket(this, 'Requests', {
      ...SECURE_DEFAULTS,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'requests/',
      lifecycleRules: [
        { id: 'expire-inbox', prefix: INBOX_PREFIX, expiration: Duration.days(props.inboxRetentionDays) },
        {
          id: 'expire-requests',
          prefix: REQUESTS_PREFIX,
          expiration: Duration.days(props.outputRetentionDays),
        },
        {
          id: 'expire-outputs',
          prefix: OUTPUTS_PREFIX,
          expiration: Duration.days(props.outputRetentionDays),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    skipCheckov(this.requestBucket, {
      id: 'CKV_AWS_21',
      comment:
        'Not versioned: inbox/ and outputs/ are written once and expire, and status.json is rewritten on every progress step by design, so versions would only accumulate cost.',
    });
    this.requestBucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new IntakeQueueDestination(props.intakeQueue),
      { prefix: INBOX_PREFIX, suffix: MANIFEST_NAME },
    );
    // CDK's singleton custom resource that writes the notification configuration onto the bucket.
    const notificationsHandler = Stack.of(this).node.findChild(NOTIFICATIONS_HANDLER_ID);
    Validations.of(notificationsHandler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'CDK-owned deploy-time handler that only writes logs; its role is not configurable.',
    });
    skipCheckov(
      notificationsHandler,
      {
        id: 'CKV_AWS_116',
        comment:
          'CDK-owned handler that CloudFormation invokes synchronously during deploys; a DLQ never receives anything.',
      },
      {
        id: 'CKV_AWS_117',
        comment: 'CDK-owned deploy-time handler that calls only the S3 API; not configurable.',
      },
      {
        id: 'CKV_AWS_115',
        comment:
          'CDK-owned deploy-time handler, invoked once per deploy by CloudFormation; not configurable.',
      },
    );

    this.modelBucket = props.modelBucketName
      ? s3.Bucket.fromBucketName(this, 'Models', props.modelBucketName)
      : new s3.Bucket(this, 'Models', {
          ...SECURE_DEFAULTS,
          // Versioned: the mirror is tens of GB that take long to fetch again; an overwrite or delete is undoable.
          versioned: true,
          removalPolicy: RemovalPolicy.RETAIN,
          serverAccessLogsBucket: this.accessLogsBucket,
          serverAccessLogsPrefix: 'models/',
          lifecycleRules: [
            { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
            { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
          ],
        });
  }
}
