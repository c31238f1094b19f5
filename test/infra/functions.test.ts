import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../contracts/metrics.js';
import type { HeritageFunction } from '../../infra/constructs/heritage-function.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

describe('Lambda functions', () => {
  let template: Template;
  let stack: HeritageStack;
  let functions: Record<'dispatch' | 'deadLetter' | 'reconcile', HeritageFunction>;
  beforeAll(() => {
    ({ template, stack } = buildHeritage({
      maxWorkers: 5,
      requestTimeoutSeconds: 600,
      logRetentionDays: 14,
    }));
    const { dispatch, deadLetter, reconcile } = stack.controlPlane;
    functions = { dispatch, deadLetter, reconcile };
  });

  const properties = (fn: HeritageFunction) =>
    resourcesOfType(template, 'AWS::Lambda::Function')[logicalId(fn.function)]?.Properties ?? {};

  it.each(['dispatch', 'deadLetter', 'reconcile'] as const)(
    'runs %s as an arm64 Node 22 ESM bundle with source maps, X-Ray and the Powertools environment',
    (name) => {
      // Act
      const fn = properties(functions[name]);

      // Assess
      expect(fn).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: logicalId(functions[name].logGroup) } },
        Environment: {
          Variables: expect.objectContaining({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          }),
        },
      });
    },
  );

  it('gives each function its own log group with the configured retention', () => {
    // Assess
    for (const fn of Object.values(functions)) {
      expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[logicalId(fn.logGroup)]?.Properties).toEqual({
        RetentionInDays: 14,
      });
    }
  });

  it('hands dispatch and reconcile everything they need to scale workers', () => {
    // Prepare
    const expected = {
      REQUEST_BUCKET: { Ref: logicalId(stack.storage.requestBucket) },
      WORK_QUEUE_URL: { Ref: logicalId(stack.messaging.workQueue) },
      COMPLETIONS_TOPIC_ARN: { Ref: logicalId(stack.messaging.completionsTopic) },
      JOB_QUEUE: { 'Fn::GetAtt': [logicalId(stack.workers.jobQueue), 'JobQueueArn'] },
      JOB_DEFINITION: { Ref: logicalId(stack.workers.jobDefinition) },
      MAX_WORKERS: '5',
      REQUEST_TIMEOUT_SECONDS: '600',
    };

    // Assess
    for (const fn of [functions.dispatch, functions.reconcile]) {
      expect(properties(fn).Environment).toEqual({ Variables: expect.objectContaining(expected) });
    }
    expect(properties(functions.deadLetter).Environment).toEqual({
      Variables: expect.objectContaining({
        REQUEST_BUCKET: expected.REQUEST_BUCKET,
        COMPLETIONS_TOPIC_ARN: expected.COMPLETIONS_TOPIC_ARN,
      }),
    });
  });

  it('reserves concurrency for dispatch and reconcile so that they cannot flood Batch', () => {
    // Assess
    expect(properties(functions.dispatch).ReservedConcurrentExecutions).toBe(2);
    expect(properties(functions.reconcile).ReservedConcurrentExecutions).toBe(1);
    expect(properties(functions.deadLetter).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('feeds dispatch from the intake queue and dead-letter from both DLQs, reporting partial failures', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.messaging.intakeQueue), 'Arn'] },
      FunctionName: { Ref: logicalId(functions.dispatch.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.messaging.workDeadLetterQueue), 'Arn'] },
      FunctionName: { Ref: logicalId(functions.deadLetter.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.messaging.intakeDeadLetterQueue), 'Arn'] },
      FunctionName: { Ref: logicalId(functions.deadLetter.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
  });

  it('runs reconcile every minute and whenever a worker job succeeds or fails', () => {
    // Prepare
    const target = Match.arrayWith([
      Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(functions.reconcile.function), 'Arn'] } }),
    ]);

    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: target,
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.batch'],
        'detail-type': ['Batch Job State Change'],
        detail: {
          jobQueue: [{ 'Fn::GetAtt': [logicalId(stack.workers.jobQueue), 'JobQueueArn'] }],
          status: ['SUCCEEDED', 'FAILED'],
        },
      },
      Targets: target,
    });
  });
});
