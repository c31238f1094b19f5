/**
 * The request bucket's manifest notifications into the intake queue. CDK's SqsDestination lets
 * s3.amazonaws.com send when the source ARN is the bucket's; a bucket ARN names no account, so this
 * one names the account too (aws:SourceAccount), and another account's bucket of the same name, should
 * ours ever be deleted, could not send. The intake queue is SQS-encrypted: there is no key to grant.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

export class IntakeQueueDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(_scope: Construct, bucket: s3.IBucketRef): s3.BucketNotificationDestinationConfig {
    this.queue.grantSendMessages(
      new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
        },
      }),
    );
    return {
      arn: this.queue.queueArn,
      type: s3.BucketNotificationDestinationType.QUEUE,
      dependencies: [this.queue],
    };
  }
}
