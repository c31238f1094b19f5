import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

interface NotificationProperties {
  NotificationConfiguration: {
    QueueConfigurations: { Filter: { Key: { FilterRules: { Name: string; Value: string }[] } } }[];
  };
}

describe('storage', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage({ outputRetentionDays: 21, inboxRetentionDays: 3 }));
  });

  it('creates the request, model and access-log buckets with public access blocked and SSE on', () => {
    // Act
    const buckets = resourcesOfType(template, 'AWS::S3::Bucket');

    // Assess
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
    }
  });

  it('denies every request over plain HTTP or old TLS on each bucket', () => {
    // Act
    const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy');

    // Assess
    expect(Object.keys(policies)).toHaveLength(3);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties).toMatchObject({
        PolicyDocument: {
          Statement: expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            expect.objectContaining({
              Effect: 'Deny',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
          ]),
        },
      });
    }
  });

  it('expires inbox/ and outputs/ after their configured retention and aborts stale multipart uploads', () => {
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: 'expire-inbox', Prefix: 'inbox/', ExpirationInDays: 3, Status: 'Enabled' }),
          Match.objectLike({ Id: 'expire-requests', Prefix: 'requests/', ExpirationInDays: 21 }),
          Match.objectLike({ Id: 'expire-outputs', Prefix: 'outputs/', ExpirationInDays: 21 }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'requests/' }),
    });
  });

  it('versions the model bucket and expires its old versions', () => {
    // Assess
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]),
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'models/' }),
    });
  });

  it('sends only inbox/…/manifest.json creations to the intake queue', () => {
    // Prepare
    const intakeQueue = logicalId(stack.messaging.intakeQueue);

    // Act
    const [notifications, ...others] = Object.values(
      resourcesOfType(template, 'Custom::S3BucketNotifications'),
    );

    // Assess
    expect(others).toHaveLength(0);
    expect(notifications?.Properties).toMatchObject({
      BucketName: { Ref: logicalId(stack.storage.requestBucket) },
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            QueueArn: { 'Fn::GetAtt': [intakeQueue, 'Arn'] },
          },
        ],
      },
    });
    const rules = (notifications?.Properties as unknown as NotificationProperties | undefined)
      ?.NotificationConfiguration.QueueConfigurations[0]?.Filter.Key.FilterRules;
    expect(rules).toHaveLength(2);
    expect(rules).toEqual(
      expect.arrayContaining([
        { Name: 'prefix', Value: 'inbox/' },
        { Name: 'suffix', Value: 'manifest.json' },
      ]),
    );
  });

  it('lets only S3, from the request bucket, send to the intake queue', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('storage with an existing model bucket', () => {
  it('uses the named bucket instead of creating one', () => {
    // Act
    const { template } = buildHeritage({ modelBucketName: 'acme-heritage-models' });

    // Assess
    expect(Object.keys(resourcesOfType(template, 'AWS::S3::Bucket'))).toHaveLength(2);
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        Environment: Match.arrayWith([{ Name: 'MODEL_BUCKET', Value: 'acme-heritage-models' }]),
      },
    });
    template.hasOutput('ModelBucketName', { Value: 'acme-heritage-models' });
  });
});
