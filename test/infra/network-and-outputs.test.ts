import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { StackOutputsSchema } from '../../contracts/stack-outputs.js';
import type { HeritageStack } from '../../infra/stack.js';
import {
  buildHeritage,
  existingVpcContext,
  logicalId,
  resourcesOfType,
  TEST_ENV,
} from './support/heritage-app.js';

interface EndpointStatement {
  Effect: string;
  Principal: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('network', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage());
  });

  /** The policy statements of the endpoint for `service` (the service name's last part, e.g. "sqs"). */
  function endpointPolicy(service: string): EndpointStatement[] | undefined {
    const endpoint = Object.values(resourcesOfType(template, 'AWS::EC2::VPCEndpoint')).find((resource) =>
      JSON.stringify(resource.Properties?.ServiceName).endsWith(`.${service}"]]}`),
    );
    if (endpoint === undefined) throw new Error(`no endpoint for ${service}`);
    const document = endpoint.Properties?.PolicyDocument as { Statement: EndpointStatement[] } | undefined;
    return document?.Statement;
  }

  it('gives the worker subnets no route out of the VPC: no NAT gateway, internet gateway or default route', () => {
    // Assess
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::EgressOnlyInternetGateway', 0);
    template.resourceCountIs('AWS::EC2::Route', 0);
    expect(stack.network.vpc.publicSubnets).toEqual([]);
    expect(stack.network.vpc.privateSubnets).toEqual([]);
    template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
  });

  it('routes the worker subnets to S3 through the gateway endpoint', () => {
    // Prepare
    const routeTables = stack.network.vpc.isolatedSubnets.map((subnet) =>
      stack.resolve(subnet.routeTable.routeTableId),
    );

    // Assess
    expect(routeTables.length).toBeGreaterThan(0);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] },
      RouteTableIds: routeTables,
    });
  });

  it.each(['ecr.api', 'ecr.dkr', 'logs', 'sqs', 'sns', 'sts', 'ecs', 'ecs-agent', 'ecs-telemetry'])(
    'adds a private-DNS interface endpoint for %s in the worker subnets',
    (service) => {
      // Assess
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
        ServiceName: { 'Fn::Join': ['', Match.arrayWith([`.${service}`])] },
        SubnetIds: stack.network.vpc.isolatedSubnets.map((subnet) => ({ Ref: logicalId(subnet) })),
      });
    },
  );

  it('lets through the S3 endpoint only the two Heritage buckets and the bucket ECR serves layers from', () => {
    // Act
    const statements = endpointPolicy('s3') ?? [];
    const resources = JSON.stringify(statements.flatMap((statement) => asList(statement.Resource)));

    // Assess
    expect(statements).toHaveLength(3);
    expect(resources).toContain(logicalId(stack.storage.requestBucket));
    expect(resources).toContain(logicalId(stack.storage.modelBucket));
    expect(resources).toContain('-starport-layer-bucket/*');
    expect(statements.flatMap((statement) => asList(statement.Action)).sort()).toEqual([
      's3:GetObject',
      's3:GetObject',
      's3:GetObject',
      's3:ListBucket',
      's3:ListBucket',
      's3:PutObject',
    ]);
  });

  it.each([
    ['sqs', ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], 'MessagingWork'],
    ['sns', ['sns:Publish'], 'MessagingCompletions'],
    ['sts', ['sts:AssumeRole', 'sts:TagSession'], 'WorkersRequestAccessRole'],
    ['logs', ['logs:PutLogEvents'], 'WorkersLogs'],
    ['ecr.dkr', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], 'container-assets'],
  ])(
    'lets through the %s endpoint only what the worker calls, on Heritage resources',
    (service, actions, resource) => {
      // Act
      const statements = endpointPolicy(service) ?? [];

      // Assess
      const allowed = statements.flatMap((statement) => asList(statement.Action));
      for (const action of actions) expect(allowed).toContain(action);
      expect(allowed.filter((action) => action.endsWith('*'))).toEqual([]);
      const scoped = statements.filter((statement) => statement.Resource !== '*');
      expect(JSON.stringify(scoped.map((statement) => statement.Resource))).toContain(resource);
      expect(
        statements.filter((statement) => statement.Resource === '*').flatMap((s) => asList(s.Action)),
      ).toEqual(service.startsWith('ecr') ? ['ecr:GetAuthorizationToken'] : []);
    },
  );

  it("admits only this account's identities, except to ECR's layer bucket, whose URLs ECR signs", () => {
    // Act
    const services = ['s3', 'ecr.api', 'ecr.dkr', 'logs', 'sqs', 'sns', 'sts', 'ecs'];
    const statements = services.flatMap((service) => endpointPolicy(service) ?? []);
    const unbound = statements.filter(
      (statement) =>
        JSON.stringify(statement.Condition?.StringEquals?.['aws:PrincipalAccount']) !==
        JSON.stringify({ Ref: 'AWS::AccountId' }),
    );

    // Assess
    expect(statements.length).toBeGreaterThan(services.length);
    expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true);
    expect(unbound).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: expect.anything() }),
    ]);
    expect(JSON.stringify(unbound[0]?.Resource)).toContain('-starport-layer-bucket/*');
  });

  it('leaves the ECS agent and telemetry endpoints at full access, the only policy they accept', () => {
    // Assess
    expect(endpointPolicy('ecs-agent')).toBeUndefined();
    expect(endpointPolicy('ecs-telemetry')).toBeUndefined();
    expect(endpointPolicy('ecs')).toBeDefined();
  });

  it('logs rejected traffic of the VPC', () => {
    // Assess
    template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', ResourceType: 'VPC' });
  });
});

describe('network with an existing VPC', () => {
  it('runs the workers in its isolated subnets and creates no VPC or endpoints of its own', () => {
    // Act
    const { template, stack } = buildHeritage(existingVpcContext(), { env: TEST_ENV });

    // Assess
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: { Subnets: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] },
    });
    expect(stack.network.vpc.isolatedSubnets).toHaveLength(2);
  });

  it('refuses a VPC without isolated subnets, where workers would have a route out', () => {
    // Prepare
    const context = existingVpcContext();
    const lookupKey = Object.keys(context).find((key) => key.startsWith('vpc-provider:')) ?? '';
    const answer = structuredClone(context[lookupKey]) as { subnetGroups: { name: string; type: string }[] };
    for (const group of answer.subnetGroups) Object.assign(group, { name: 'Private', type: 'Private' });

    // Act
    const build = () => buildHeritage({ ...context, [lookupKey]: answer }, { env: TEST_ENV });

    // Assess
    expect(build).toThrow(/has no isolated subnets/);
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
