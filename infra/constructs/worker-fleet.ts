/**
 * The GPU side: a managed EC2 compute environment on p5 that scales to zero, its launch template
 * (NVMe model cache, IMDSv2, IMDS closed to containers), the job queue, and the worker job definition
 * built from gpu-container/.
 */
import * as path from 'node:path';
import { type Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { WorkerSizing } from '../sizing.js';
import { LOG_GROUP_KMS_SKIP, skipCheckov } from './checkov.js';
import { imdsGuardPart, WORKER_UID } from './imds-guard-user-data.js';
import { HOST_MODEL_CACHE_DIR, modelCacheUserData } from './model-cache-user-data.js';
import { RequestAccess } from './request-access.js';

/** Where the model cache appears inside the container (MODEL_CACHE_DIR). */
export const CONTAINER_MODEL_CACHE_DIR = '/models';
/** Batch's reason for a job whose Spot instance was reclaimed. */
export const SPOT_RECLAIMED_STATUS_REASON = 'Host EC2*';
export const CANNOT_PULL_CONTAINER_REASON = 'CannotPullContainerError:*';
export const WORKER_RETRY_ATTEMPTS = 3;

export interface WorkerFleetProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly instanceTypes: readonly string[];
  readonly sizing: WorkerSizing;
  readonly spot: boolean;
  readonly runnableTimeout: Duration;
  readonly attemptTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** Docker build context of the worker image; its Dockerfile is WORKER_DOCKERFILE inside it. */
  readonly imageContext: string;
  readonly environment: Record<string, string>;
  /** Reached only through the per-request role (RequestAccess), never with the job role itself. */
  readonly requestBucket: s3.IBucket;
}

export class WorkerFleet extends Construct {
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;
  /** The role the worker container runs as; the stack grants it the queue, model bucket and topic. */
  readonly jobRole: iam.Role;
  /** What the job role assumes for each request: the request bucket, narrowed per request by session policy. */
  readonly requestAccess: RequestAccess;
  readonly computeEnvironment: batch.ManagedEc2EcsComputeEnvironment;
  /** Where the worker image is pulled from, and where its logs go: what the VPC endpoints must admit. */
  readonly imageRepositoryArn: string;
  /** Where the workers' stdout and stderr go: their JSON log lines and their EMF metrics. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);

    const userData = modelCacheUserData();
    userData.addPart(imdsGuardPart());
    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      userData,
      requireImdsv2: true,
      // Hop limit 1 stops bridged containers only; Batch's are host-networked, so the boothook of
      // imds-guard-user-data.ts rejects IMDS traffic from every non-root process on the host.
      httpPutResponseHopLimit: 1,
      httpProtocolIpv6: false,
      blockDevices: [
        {
          // Room for the multi-GB CUDA + PyTorch image layers; the models live on the NVMe RAID.
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(200, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
          }),
        },
      ],
    });

    const instanceRole = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEC2ContainerServiceforEC2Role'),
      ],
    });
    Validations.of(instanceRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]',
      reason: 'The ECS agent on Batch instances needs this AWS-maintained policy to register and run tasks.',
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Heritage GPU workers: no inbound, outbound HTTPS only',
      allowAllOutbound: false,
    });
    // Any address, because the S3 gateway endpoint is reached at S3's public addresses, whose prefix list
    // an environment-agnostic template cannot name; the subnets route nowhere but to the endpoints.
    securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'AWS APIs and S3 through the VPC endpoints',
    );

    this.computeEnvironment = new batch.ManagedEc2EcsComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      instanceTypes: props.instanceTypes.map((name) => new ec2.InstanceType(name)),
      useOptimalInstanceClasses: false,
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
      minvCpus: 0,
      maxvCpus: props.sizing.maxvCpus,
      spot: props.spot,
      allocationStrategy: props.spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE,
      launchTemplate,
      instanceRole,
      updateToLatestImageVersion: true,
    });

    // Pin the version: a user-data change then changes the compute environment too, and Batch rolls
    // its instances onto the new template instead of keeping the version it first resolved.
    (this.computeEnvironment.node.defaultChild as batch.CfnComputeEnvironment).addPropertyOverride(
      'ComputeResources.LaunchTemplate.Version',
      launchTemplate.latestVersionNumber,
    );

    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      computeEnvironments: [{ computeEnvironment: this.computeEnvironment, order: 1 }],
      jobStateTimeLimitActions: [
        batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
        batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
        batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
      ].map((reason) => ({
        reason,
        action: batch.JobStateTimeLimitActionsAction.CANCEL,
        maxTime: props.runnableTimeout,
        state: batch.JobStateTimeLimitActionsState.RUNNABLE,
      })),
    });

    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Heritage GPU worker container',
    });
    this.requestAccess = new RequestAccess(this, 'RequestAccess', {
      jobRole: this.jobRole,
      requestBucket: props.requestBucket,
    });

    const image = new DockerImageAsset(this, 'Image', {
      directory: props.imageContext,
      file: WORKER_DOCKERFILE,
      platform: Platform.LINUX_AMD64,
      exclude: WORKER_IMAGE_EXCLUDE,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    skipCheckov(logGroup, LOG_GROUP_KMS_SKIP);
    this.imageRepositoryArn = image.repository.repositoryArn;
    this.logGroup = logGroup;

    const container = new batch.EcsEc2ContainerDefinition(this, 'Container', {
      image: ecs.ContainerImage.fromDockerImageAsset(image),
      cpu: props.sizing.vcpus,
      memory: Size.mebibytes(props.sizing.memoryMiB),
      gpu: props.sizing.gpus,
      jobRole: this.jobRole,
      // Pinned here, not left to the image: no container process runs as root, which alone may reach IMDS.
      user: String(WORKER_UID),
      environment: {
        AWS_REGION: Stack.of(this).region,
        MODEL_CACHE_DIR: CONTAINER_MODEL_CACHE_DIR,
        REQUEST_ACCESS_ROLE_ARN: this.requestAccess.role.roleArn,
        ...props.environment,
      },
      linuxParameters: new batch.LinuxParameters(this, 'LinuxParameters', {
        sharedMemorySize: Size.mebibytes(props.sizing.sharedMemoryMiB),
        initProcessEnabled: true,
      }),
      ulimits: [
        { name: batch.UlimitName.NOFILE, softLimit: 1_048_576, hardLimit: 1_048_576 },
        { name: batch.UlimitName.MEMLOCK, softLimit: -1, hardLimit: -1 },
        { name: batch.UlimitName.STACK, softLimit: 67_108_864, hardLimit: 67_108_864 },
      ],
      volumes: [
        batch.EcsVolume.host({
          name: 'model-cache',
          hostPath: HOST_MODEL_CACHE_DIR,
          containerPath: CONTAINER_MODEL_CACHE_DIR,
        }),
      ],
      logging: ecs.LogDriver.awsLogs({ logGroup, streamPrefix: 'worker' }),
    });

    Validations.of(container.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are scoped to the asset repository.',
    });

    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      container,
      propagateTags: true,
      timeout: props.attemptTimeout,
      retryAttempts: WORKER_RETRY_ATTEMPTS,
      retryStrategies: [
        batch.RetryStrategy.of(
          batch.Action.RETRY,
          batch.Reason.custom({ onStatusReason: SPOT_RECLAIMED_STATUS_REASON }),
        ),
        batch.RetryStrategy.of(
          batch.Action.RETRY,
          batch.Reason.custom({ onReason: CANNOT_PULL_CONTAINER_REASON }),
        ),
        // Anything else is the worker's own exit: its in-flight message returns to the queue by itself.
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onReason: '*' })),
      ],
    });
  }
}

/**
 * The worker image builds from the repository root: the worker imports contracts/ and adapters/, and
 * the Dockerfile bundles it itself. Only what the image needs is sent to Docker (and hashed), so a
 * README edit does not rebuild a multi-GB image. .dockerignore says the same for `npm run image`.
 */
export const REPOSITORY_ROOT = path.join(import.meta.dirname, '..', '..');
export const WORKER_DOCKERFILE = 'gpu-container/Dockerfile';
export const WORKER_IMAGE_INCLUDE = [
  'gpu-container',
  'contracts',
  'adapters',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
];
export const WORKER_IMAGE_EXCLUDE = [
  '*',
  ...WORKER_IMAGE_INCLUDE.map((included) => `!${included}`),
  '**/node_modules',
  '**/__pycache__',
];
