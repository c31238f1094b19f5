import { spawnSync } from 'node:child_process';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WORKER_UID } from '../../infra/constructs/imds-guard-user-data.js';
import { HOST_MODEL_CACHE_DIR, MODEL_CACHE_SCRIPT } from '../../infra/constructs/model-cache-user-data.js';
import { GPU_INSTANCE_TYPE_NAMES } from '../../infra/instance-types.js';
import { SizingError, sizeWorker } from '../../infra/sizing.js';
import type { HeritageStack } from '../../infra/stack.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

describe('AWS Batch worker fleet', () => {
  let template: Template;
  let stack: HeritageStack;
  beforeAll(() => {
    ({ template, stack } = buildHeritage({
      workerIdleTimeoutSeconds: 120,
      runnableTimeoutMinutes: 20,
      jobAttemptTimeoutSeconds: 7200,
    }));
  });

  it('runs a managed EC2 compute environment on p5 with the ECS AL2023 NVIDIA image that scales to zero', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: {
        Type: 'EC2',
        InstanceTypes: ['p5.48xlarge'],
        Ec2Configuration: [{ ImageType: 'ECS_AL2023_NVIDIA' }],
        MinvCpus: 0,
        MaxvCpus: 192,
        AllocationStrategy: 'BEST_FIT_PROGRESSIVE',
        LaunchTemplate: {
          LaunchTemplateId: { Ref: Match.stringLikeRegexp('^WorkersLaunchTemplate') },
          Version: {
            'Fn::GetAtt': [Match.stringLikeRegexp('^WorkersLaunchTemplate'), 'LatestVersionNumber'],
          },
        },
      },
    });
  });

  it('places workers in isolated subnets behind a security group with no inbound rule', () => {
    // Prepare
    const isolatedSubnets = stack.network.vpc.isolatedSubnets.map((subnet) => ({ Ref: logicalId(subnet) }));

    // Assess
    expect(isolatedSubnets.length).toBeGreaterThan(0);
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: { Subnets: isolatedSubnets },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('GPU workers'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    });
  });

  it('requires IMDSv2 and RAIDs the instance-store NVMe into the model cache mount', () => {
    // Act
    const [launchTemplate] = Object.values(resourcesOfType(template, 'AWS::EC2::LaunchTemplate'));
    const data = launchTemplate?.Properties?.LaunchTemplateData as {
      MetadataOptions: unknown;
      UserData: unknown;
    };
    const userData = JSON.stringify(data.UserData);

    // Assess
    expect(data.MetadataOptions).toEqual({
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 1,
      HttpProtocolIpv6: 'disabled',
    });
    expect(userData).toContain('Content-Type: multipart/mixed');
    expect(userData).toContain('Amazon EC2 NVMe Instance Storage');
    expect(userData).toContain('mdadm --create');
    expect(userData).toContain('--level=0');
    expect(userData).toContain(`mkdir -p ${HOST_MODEL_CACHE_DIR}`);
  });

  it('closes IMDS to every non-root process with a boothook, and turns on task roles for host networking', () => {
    // Act
    const [launchTemplate] = Object.values(resourcesOfType(template, 'AWS::EC2::LaunchTemplate'));
    const data = launchTemplate?.Properties?.LaunchTemplateData as { UserData: unknown } | undefined;
    const userData = JSON.stringify(data?.UserData);

    // Assess: what the rule does is run in test/infra/user-data-scripts.test.ts.
    expect(userData).toContain('Content-Type: text/cloud-boothook');
    expect(userData).toContain('-m owner ! --uid-owner 0 -j REJECT');
    expect(userData).toContain('reject_imds iptables 169.254.169.254/32');
    expect(userData).toContain('reject_imds ip6tables fd00:ec2::254/128');
    expect(userData).toContain('ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=true');
    expect(userData).toContain('systemctl mask ecs.service');
    expect(userData).not.toMatch(/\b(dnf|yum) install/);
  });

  it('runs the worker container as the image user, never as root', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: { User: String(WORKER_UID), Privileged: Match.absent() },
    });
    expect(WORKER_UID).toBeGreaterThan(0);
  });

  it('ships a model-cache script that bash accepts', () => {
    // Act
    const check = spawnSync('bash', ['-n'], { input: MODEL_CACHE_SCRIPT, encoding: 'utf8' });

    // Assess
    expect(check.status, check.stderr).toBe(0);
  });

  it('cancels jobs stuck RUNNABLE after the configured time, for each reason Batch reports', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobQueue', {
      ComputeEnvironmentOrder: [
        {
          ComputeEnvironment: {
            'Fn::GetAtt': [logicalId(stack.workers.computeEnvironment), 'ComputeEnvironmentArn'],
          },
          Order: 1,
        },
      ],
      JobStateTimeLimitActions: [
        {
          Action: 'CANCEL',
          MaxTimeSeconds: 1200,
          State: 'RUNNABLE',
          Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY',
        },
        {
          Action: 'CANCEL',
          MaxTimeSeconds: 1200,
          State: 'RUNNABLE',
          Reason: 'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE',
        },
        {
          Action: 'CANCEL',
          MaxTimeSeconds: 1200,
          State: 'RUNNABLE',
          Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT',
        },
      ],
    });
  });

  it('defines the worker job with one GPU, its share of the host, shared memory, ulimits and the model cache', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      Type: 'container',
      PlatformCapabilities: ['EC2'],
      ContainerProperties: {
        ResourceRequirements: [
          { Type: 'MEMORY', Value: String(240 * 1024) },
          { Type: 'VCPU', Value: '24' },
          { Type: 'GPU', Value: '1' },
        ],
        LinuxParameters: { SharedMemorySize: 32 * 1024, InitProcessEnabled: true },
        Ulimits: Match.arrayWith([{ Name: 'nofile', SoftLimit: 1048576, HardLimit: 1048576 }]),
        Volumes: [{ Name: 'model-cache', Host: { SourcePath: HOST_MODEL_CACHE_DIR } }],
        MountPoints: [{ SourceVolume: 'model-cache', ContainerPath: '/models' }],
        JobRoleArn: { 'Fn::GetAtt': [logicalId(stack.workers.jobRole), 'Arn'] },
        Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') },
      },
    });
  });

  it('gives the worker container the environment the worker reads', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        Environment: Match.arrayWith([
          { Name: 'MODEL_CACHE_DIR', Value: '/models' },
          { Name: 'REQUEST_BUCKET', Value: { Ref: logicalId(stack.storage.requestBucket) } },
          { Name: 'WORK_QUEUE_URL', Value: { Ref: logicalId(stack.messaging.workQueue) } },
          { Name: 'COMPLETIONS_TOPIC_ARN', Value: { Ref: logicalId(stack.messaging.completionsTopic) } },
          { Name: 'REQUEST_TIMEOUT_SECONDS', Value: '900' },
          { Name: 'IDLE_TIMEOUT_SECONDS', Value: '120' },
          { Name: 'MODEL_BUCKET', Value: { Ref: logicalId(stack.storage.modelBucket) } },
          { Name: 'MODEL_PREFIX', Value: 'models/' },
          { Name: 'WORKFLOW', Value: 'wan22-flf2v-rife' },
        ]),
      },
    });
  });

  it('retries a job on a Spot reclaim or an image pull error, exits on anything else, and times out each attempt', () => {
    // Assess
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      RetryStrategy: {
        Attempts: 3,
        EvaluateOnExit: [
          { Action: 'RETRY', OnStatusReason: 'Host EC2*' },
          { Action: 'RETRY', OnReason: 'CannotPullContainerError:*' },
          { Action: 'EXIT', OnReason: '*' },
        ],
      },
      Timeout: { AttemptDurationSeconds: 7200 },
    });
  });
});

describe('AWS Batch sizing per instance type', () => {
  it.each(GPU_INSTANCE_TYPE_NAMES)('sizes the %s job definition from the sizing function', (instanceType) => {
    // Prepare
    const sizing = sizeWorker({ instanceTypes: [instanceType], maxWorkers: 8 });

    // Act
    const { template } = buildHeritage({ instanceTypes: [instanceType] });

    // Assess
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: { InstanceTypes: [instanceType], MaxvCpus: sizing.maxvCpus },
    });
    template.hasResourceProperties('AWS::Batch::JobDefinition', {
      ContainerProperties: {
        ResourceRequirements: [
          { Type: 'MEMORY', Value: String(sizing.memoryMiB) },
          { Type: 'VCPU', Value: String(sizing.vcpus) },
          { Type: 'GPU', Value: '1' },
        ],
        LinuxParameters: Match.objectLike({ SharedMemorySize: sizing.sharedMemoryMiB }),
      },
    });
  });

  it('uses Spot capacity with price-capacity-optimized allocation when spot is on', () => {
    // Act
    const { template } = buildHeritage({ spot: 'true' });

    // Assess
    template.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      ComputeResources: { Type: 'SPOT', AllocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED' },
    });
  });

  it('refuses to synthesize a worker whose shared memory cannot fit', () => {
    // Act
    const build = () => buildHeritage({ instanceTypes: ['p5.4xlarge'], sharedMemoryMiB: 150_000 });

    // Assess
    expect(build).toThrow(SizingError);
  });
});
