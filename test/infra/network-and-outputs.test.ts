import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { StackOutputsSchema } from '../../contracts/stack-outputs.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, existingVpcContext, logicalId, TEST_ENV } from './support/heritage-app.js';

describe('network', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = buildHeritage());
  });

  it('creates a VPC whose S3 traffic uses a gateway endpoint', () => {
    // Assess
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] },
    });
  });

  it.each(['ecr.api', 'ecr.dkr', 'logs', 'sqs', 'sns'])(
    'adds a private-DNS interface endpoint for %s',
    (service) => {
      // Assess
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: { 'Fn::Join': ['', Match.arrayWith([`.${service}`])] },
      });
    },
  );

  it('logs rejected traffic of the VPC', () => {
    // Assess
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', ResourceType: 'VPC' });
  });
});

describe('network with an existing VPC', () => {
  it('looks the VPC up instead of creating one or its endpoints', () => {
    // Act
    const { template } = buildHeritage(existingVpcContext(), { env: TEST_ENV });

    // Assess
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::Batch::ComputeEnvironment', 1);
  });
});

describe('stack outputs', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage());
  });

  it('outputs every value the CLI reads', () => {
    // Act
    const outputs = Object.keys(template.findOutputs('*')).sort();

    // Assess
    expect(outputs).toEqual(Object.keys(StackOutputsSchema.shape).sort());
  });

  it('outputs the bucket, topic, queues and job queue a client needs', () => {
    // Assess
    template.hasOutput('RequestBucketName', { Value: { Ref: logicalId(stack.storage.requestBucket) } });
    template.hasOutput('CompletionsTopicArn', {
      Value: { Ref: logicalId(stack.messaging.completionsTopic) },
    });
    template.hasOutput('WorkQueueUrl', { Value: { Ref: logicalId(stack.messaging.workQueue) } });
    template.hasOutput('JobQueueArn', {
      Value: { 'Fn::GetAtt': [logicalId(stack.workers.jobQueue), 'JobQueueArn'] },
    });
  });

  it('outputs a ready `aws s3 cp` example that uploads the manifest last', () => {
    // Act
    const command = JSON.stringify(template.findOutputs('FirstRequestCommand'));

    // Assess
    expect(command).toContain('aws s3 cp start.png s3://');
    const manifestAt = command.indexOf('manifest.json s3://');
    expect(manifestAt).toBeGreaterThan(command.indexOf('end.png s3://'));
    expect(command).toContain('/inbox/first-request/manifest.json');
  });
});
