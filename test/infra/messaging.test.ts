import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TIMEOUT, DISPATCH_TIMEOUT } from '../../infra/constructs/control-plane.js';
import { workVisibilityTimeout } from '../../infra/constructs/messaging.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

describe('queues and topics', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage({ requestTimeoutSeconds: 1200, workMaxReceiveCount: 4 }));
  });

  it('encrypts every queue and refuses plain HTTP on each', () => {
    // Act
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy'));

    // Assess
    expect(Object.keys(queues)).toHaveLength(4);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true });
      const tlsOnly = policies.some(
        (policy) =>
          JSON.stringify(policy.Properties).includes(`"aws:SecureTransport":"false"`) &&
          JSON.stringify(policy.Properties).includes(`"${id}"`),
      );
      expect(tlsOnly, `${id} refuses plain HTTP`).toBe(true);
    }
  });

  it('redrives the intake queue to its DLQ after 5 receives and the work queue after the configured count', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.messaging.intakeDeadLetterQueue), 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.messaging.workDeadLetterQueue), 'Arn'] },
        maxReceiveCount: 4,
      },
    });
  });

  it('derives visibility timeouts from the consumer timeouts and the request timeout', () => {
    // Act
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    const visibility = (queue: IConstruct) => queues[logicalId(queue)]?.Properties?.VisibilityTimeout;

    // Assess
    expect(visibility(stack.messaging.intakeQueue)).toBe(DISPATCH_TIMEOUT.toSeconds() * 6);
    expect(visibility(stack.messaging.workDeadLetterQueue)).toBe(DEAD_LETTER_TIMEOUT.toSeconds() * 6);
    expect(visibility(stack.messaging.intakeDeadLetterQueue)).toBe(DEAD_LETTER_TIMEOUT.toSeconds() * 6);
    expect(visibility(stack.messaging.workQueue)).toBe(1200 + 120);
    expect(workVisibilityTimeout(Duration.hours(20)).toSeconds()).toBe(12 * 3600);
  });

  it('keeps dead letters for the 14-day maximum', () => {
    // Act
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');

    // Assess
    for (const queue of [stack.messaging.intakeDeadLetterQueue, stack.messaging.workDeadLetterQueue]) {
      expect(queues[logicalId(queue)]?.Properties?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('encrypts the completions and alarm topics with a rotating customer key', () => {
    // Prepare
    const key = logicalId(stack.messaging.topicKey);

    // Assess
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('lets CloudWatch use the topic key so that alarms can publish to the encrypted alarm topic', () => {
    // Assess
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('gives the completions topic a resource policy that refuses publishing without TLS', () => {
    // Assess
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(stack.messaging.completionsTopic) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });
});
