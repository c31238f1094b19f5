/** Every resource policy names the account its callers come from: no confused deputy, no other account. */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Principal?: { Service?: string; AWS?: unknown } | string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const ACCOUNT = { Ref: 'AWS::AccountId' };
const POLICY_TYPES = {
  'AWS::SQS::QueuePolicy': 'PolicyDocument',
  'AWS::SNS::TopicPolicy': 'PolicyDocument',
  'AWS::S3::BucketPolicy': 'PolicyDocument',
  'AWS::KMS::Key': 'KeyPolicy',
} as const;

describe('resource policies', () => {
  let template: Template;
  let stack: HeritageStack;
  let allows: { resource: string; statement: Statement }[];

  beforeAll(() => {
    ({ template, stack } = buildHeritage({ alarmEmail: 'oncall@example.com' }));
    allows = Object.entries(POLICY_TYPES).flatMap(([type, property]) =>
      Object.entries(resourcesOfType(template, type)).flatMap(([resource, { Properties }]) =>
        ((Properties?.[property] as { Statement: Statement[] } | undefined)?.Statement ?? [])
          .filter((statement) => statement.Effect === 'Allow')
          .map((statement) => ({ resource, statement })),
      ),
    );
  });

  const byService = (service: string) =>
    allows.filter(
      ({ statement }) => typeof statement.Principal === 'object' && statement.Principal.Service === service,
    );

  it('admits an AWS service only on behalf of this account, and of a named source', () => {
    // Act
    const services = allows.filter(
      ({ statement }) => typeof statement.Principal === 'object' && statement.Principal.Service !== undefined,
    );

    // Assess
    expect(services.length).toBeGreaterThanOrEqual(5);
    for (const { resource, statement } of services) {
      expect(statement.Condition?.StringEquals?.['aws:SourceAccount'], resource).toEqual(ACCOUNT);
      expect(statement.Condition?.ArnLike?.['aws:SourceArn'], resource).toBeDefined();
    }
  });

  it('admits no other principal than this account and its own roles', () => {
    // Act
    const others = allows.filter(
      ({ statement }) => typeof statement.Principal !== 'object' || statement.Principal.Service === undefined,
    );

    // Assess
    expect(others.length).toBeGreaterThan(0);
    for (const { resource, statement } of others) {
      const principal = JSON.stringify(
        typeof statement.Principal === 'object' ? statement.Principal.AWS : statement.Principal,
      );
      expect(principal, resource).toMatch(/"AWS::AccountId"\},":root"|"Fn::GetAtt":\["[A-Za-z0-9]+","Arn"\]/);
    }
  });

  it('lets S3 send manifest events to the intake queue from the request bucket of this account only', () => {
    // Act
    const [s3] = byService('s3.amazonaws.com');

    // Assess
    expect(s3?.resource).toBe(logicalId(stack.messaging.intakeQueue.node.findChild('Policy')));
    expect(s3?.statement.Condition).toEqual({
      ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack.storage.requestBucket), 'Arn'] } },
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
    });
  });

  it("lets CloudWatch use the topic key and publish to the alarm topic for this account's alarms only", () => {
    // Act
    const cloudwatch = byService('cloudwatch.amazonaws.com');
    const alarmArn = JSON.stringify(cloudwatch[0]?.statement.Condition?.ArnLike?.['aws:SourceArn']);

    // Assess
    expect(cloudwatch.map(({ resource }) => resource).sort()).toEqual(
      [
        logicalId(stack.messaging.alarmTopic.node.findChild('Policy')),
        logicalId(stack.messaging.topicKey),
      ].sort(),
    );
    expect(cloudwatch.map(({ statement }) => statement.Action)).toContainEqual('sns:Publish');
    expect(alarmArn).toContain(':cloudwatch:');
    expect(alarmArn).toContain(':alarm:*');
    expect(alarmArn).toContain('"Ref":"AWS::AccountId"');
  });

  it("invokes reconcile only from the stack's own EventBridge rules, whose ARNs name the account", () => {
    // Act
    const permissions = Object.values(resourcesOfType(template, 'AWS::Lambda::Permission'));
    const rules = Object.keys(resourcesOfType(template, 'AWS::Events::Rule'));

    // Assess
    expect(permissions.length).toBeGreaterThan(0);
    for (const { Properties } of permissions) {
      const source = Properties?.SourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
      expect(rules).toContain(source?.['Fn::GetAtt']?.[0]);
    }
  });
});
