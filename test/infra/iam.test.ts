import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { requestPrefixes } from '../../contracts/keys.js';
import { REQUEST_SESSION_TAG } from '../../contracts/request-access-policy.js';
import { SESSION_PREFIXES } from '../../infra/constructs/request-access.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Actions that take no resource-level permissions, so `Resource: *` is the only form AWS accepts. */
const NO_RESOURCE_LEVEL = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'batch:ListJobs',
  'ecr:GetAuthorizationToken',
]);

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('IAM', () => {
  let template: Template;
  let stack: HeritageStack;
  let statementsByRole: Map<string, Statement[]>;

  beforeAll(() => {
    ({ template, stack } = buildHeritage());
    statementsByRole = new Map();
    for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      const props = policy.Properties as {
        Roles: { Ref: string }[];
        PolicyDocument: { Statement: Statement[] };
      };
      for (const role of props.Roles) {
        const list = statementsByRole.get(role.Ref) ?? [];
        list.push(...props.PolicyDocument.Statement);
        statementsByRole.set(role.Ref, list);
      }
    }
  });

  const statementsOf = (role: IConstruct) => statementsByRole.get(logicalId(role)) ?? [];
  const objectArn = (bucket: IConstruct, prefix: string) => ({
    'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(bucket), 'Arn'] }, `/${prefix}/*`]],
  });
  /** The S3 object actions a role may take on one prefix of one bucket. */
  const objectActions = (role: IConstruct, bucket: IConstruct, prefix: string) =>
    statementsOf(role)
      .filter((statement) =>
        asList(statement.Resource).some(
          (r) => JSON.stringify(r) === JSON.stringify(objectArn(bucket, prefix)),
        ),
      )
      .flatMap((statement) => asList(statement.Action))
      .sort();

  it('grants no service-wide wildcard action such as s3:* in any role', () => {
    // Act
    const actions = [...statementsByRole.values()].flat().flatMap((statement) => asList(statement.Action));

    // Assess
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action === '*' || action.endsWith(':*'))).toEqual([]);
    template.allResourcesProperties('AWS::IAM::Role', { Policies: Match.absent() });
  });

  it('attaches AWS managed policies only where AWS requires them: the ECS agent and a CDK deploy handler', () => {
    // Act
    const managed = Object.values(resourcesOfType(template, 'AWS::IAM::Role'))
      .flatMap((role) => (role.Properties?.ManagedPolicyArns as unknown[] | undefined) ?? [])
      .map((arn) => JSON.stringify(arn).replace(/.*:policy\/(.*?)".*/, '$1'))
      .sort();

    // Assess
    expect(managed).toEqual([
      'service-role/AWSLambdaBasicExecutionRole',
      'service-role/AmazonEC2ContainerServiceforEC2Role',
    ]);
  });

  it('uses Resource: * only for actions that have no resource-level permissions', () => {
    // Act
    const unscoped = [...statementsByRole.values()]
      .flat()
      .filter((statement) => statement.Resource === '*')
      .flatMap((statement) => asList(statement.Action));

    // Assess
    expect(unscoped.length).toBeGreaterThan(0);
    expect(unscoped.filter((action) => !NO_RESOURCE_LEVEL.has(action))).toEqual([]);
  });

  it('scopes every S3 object grant to a Heritage prefix and never allows deletes', () => {
    // Act
    const s3Statements = [...statementsByRole.values()]
      .flat()
      .filter((statement) =>
        asList(statement.Action).some((action) => action.startsWith('s3:') && action !== 's3:ListBucket'),
      )
      .filter((statement) => !asList(statement.Action).includes('s3:PutBucketNotification'));

    // Assess
    for (const statement of s3Statements) {
      for (const resource of asList(statement.Resource)) {
        expect(JSON.stringify(resource)).toMatch(
          /"\/(inbox|requests|outputs|models)\/(\$\{aws:PrincipalTag\/heritage-request\}\/)?\*"/,
        );
      }
    }
    expect(s3Statements.flatMap((statement) => asList(statement.Action))).not.toContain('s3:DeleteObject');
  });

  it('lets dispatch read inbox/ and track requests/, and nothing under outputs/', () => {
    // Prepare
    const { role } = stack.controlPlane.dispatch;
    const bucket = stack.storage.requestBucket;

    // Assess
    expect(objectActions(role, bucket, 'inbox')).toEqual(['s3:GetObject']);
    expect(objectActions(role, bucket, 'requests')).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(objectActions(role, bucket, 'outputs')).toEqual([]);
  });

  it('lets dead-letter read inbox/ manifests, track requests/, and only read under outputs/', () => {
    // Prepare
    const { role } = stack.controlPlane.deadLetter;
    const bucket = stack.storage.requestBucket;

    // Assess
    expect(objectActions(role, bucket, 'requests')).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(objectActions(role, bucket, 'inbox')).toEqual(['s3:GetObject']);
    // result.json, to finish the event of a succeeded request whose event did not go out.
    expect(objectActions(role, bucket, 'outputs')).toEqual(['s3:GetObject']);
    expect(statementsOf(role).flatMap((s) => asList(s.Action))).not.toContain('batch:SubmitJob');
  });

  it('gives the job role nothing on the request bucket, only the right to assume the request-access role', () => {
    // Prepare
    const role = stack.workers.jobRole;
    const { requestBucket, modelBucket } = stack.storage;
    const statements = statementsOf(role);

    // Assess
    expect(statements.length).toBeGreaterThan(0);
    expect(JSON.stringify(statements)).not.toContain(logicalId(requestBucket));
    expect(objectActions(role, modelBucket, 'models')).toEqual(['s3:GetObject']);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:ListBucket',
        Condition: { StringLike: { 's3:prefix': ['models/*'] } },
      }),
    );
    expect(statements.filter((s) => asList(s.Action).some((a) => a.startsWith('sts:')))).toEqual([
      expect.objectContaining({
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.workers.requestAccess.role), 'Arn'] },
      }),
    ]);
  });

  it("lets a request-access session read its request's inbox/ and read and write its requests/ and outputs/, nothing else", () => {
    // Prepare
    const { role } = stack.workers.requestAccess;
    const bucket = stack.storage.requestBucket;
    const own = (prefix: string) => `${prefix}/\${aws:PrincipalTag/heritage-request}`;

    // Assess
    expect(objectActions(role, bucket, own('inbox'))).toEqual(['s3:GetObject']);
    expect(objectActions(role, bucket, own('requests'))).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(objectActions(role, bucket, own('outputs'))).toEqual(['s3:GetObject', 's3:PutObject']);
    for (const prefix of ['inbox', 'requests', 'outputs']) {
      expect(objectActions(role, bucket, prefix)).toEqual([]);
    }
    expect(statementsOf(role)).toContainEqual(
      expect.objectContaining({
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [logicalId(bucket), 'Arn'] },
        Condition: {
          StringLike: { 's3:prefix': ['inbox', 'requests', 'outputs'].map((prefix) => `${own(prefix)}/*`) },
        },
      }),
    );
    expect(
      statementsOf(role)
        .flatMap((s) => asList(s.Action))
        .filter((a) => !a.startsWith('s3:')),
    ).toEqual([]);
  });

  it('grants a session the same prefixes as the session policy, once IAM puts the tagged request id in', () => {
    // Act
    const resolved = Object.fromEntries(
      Object.entries(SESSION_PREFIXES).map(([name, prefix]) => [
        name,
        prefix.replace(`\${aws:PrincipalTag/${REQUEST_SESSION_TAG}}`, 'req_1-A'),
      ]),
    );

    // Assess
    expect(resolved).toEqual(requestPrefixes('req_1-A'));
  });

  it('lets the job role, and nothing else, assume the request-access role, only with the request tag, for an hour', () => {
    // Act
    const role = resourcesOfType(template, 'AWS::IAM::Role')[logicalId(stack.workers.requestAccess.role)];

    // Assess
    expect(role?.Properties?.MaxSessionDuration).toBe(3600);
    expect(role?.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Principal: { AWS: { 'Fn::GetAtt': [logicalId(stack.workers.jobRole), 'Arn'] } },
          Condition: {
            Null: { 'aws:RequestTag/heritage-request': 'false' },
            'ForAllValues:StringEquals': { 'aws:TagKeys': ['heritage-request'] },
          },
        },
      ],
    });
  });

  it('hands the worker the request-access role it is to assume', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        Environment: Match.arrayWith([
          {
            Name: 'REQUEST_ACCESS_ROLE_ARN',
            Value: { 'Fn::GetAtt': [logicalId(stack.workers.requestAccess.role), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('lets the worker consume the work queue and publish to the topic with its key, nothing more', () => {
    // Prepare
    const statements = statementsOf(stack.workers.jobRole);

    // Assess
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining([
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
        ]),
        Resource: { 'Fn::GetAtt': [logicalId(stack.messaging.workQueue), 'Arn'] },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'sns:Publish',
        Resource: { Ref: logicalId(stack.messaging.completionsTopic) },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [logicalId(stack.messaging.topicKey), 'Arn'] },
      }),
    );
    expect(statements.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith('batch:'))).toEqual([]);
  });

  it('lets dispatch and reconcile submit jobs only to the worker queue with the worker definition', () => {
    // Prepare
    const expected = [
      { 'Fn::GetAtt': [logicalId(stack.workers.jobQueue), 'JobQueueArn'] },
      { Ref: logicalId(stack.workers.jobDefinition) },
    ];

    // Assess
    for (const fn of [stack.controlPlane.dispatch, stack.controlPlane.reconcile]) {
      const submit = statementsOf(fn.role).filter((s) => asList(s.Action).includes('batch:SubmitJob'));
      expect(submit).toEqual([expect.objectContaining({ Resource: expected })]);
    }
  });
});
