/**
 * What may pass each VPC endpoint of the worker subnets: Heritage's own resources, called by identities
 * of this account, and the one AWS-owned bucket ECR serves image layers from. Endpoint policies grant
 * nothing; they bound what any credentials, ours or brought in, can do through the endpoint, which is
 * what closes the endpoints as a way out for data.
 */
import { Aws, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

export interface EndpointAccess {
  readonly requestBucket: s3.IBucket;
  readonly modelBucket: s3.IBucket;
  /** The repository the worker image is pulled from. */
  readonly imageRepositoryArn: string;
  /** The worker's log group (the awslogs driver writes it). */
  readonly workerLogGroupArn: string;
  readonly workQueueArn: string;
  readonly completionsTopicArn: string;
  /** The role the worker assumes per request. */
  readonly requestAccessRoleArn: string;
}

/** Endpoints whose service accepts no policy but full access: ECS's agent and telemetry channels. */
export const FULL_ACCESS_ONLY = ['EcsAgent', 'EcsTelemetry'] as const;

function fromThisAccount(scope: Stack, actions: string[], resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions,
    resources,
    conditions: { StringEquals: { 'aws:PrincipalAccount': scope.account } },
  });
}

/** The S3 gateway endpoint: the two Heritage buckets, and ECR's layer bucket for image pulls. */
export function s3EndpointStatements(scope: Stack, access: EndpointAccess): iam.PolicyStatement[] {
  const { requestBucket, modelBucket } = access;
  return [
    fromThisAccount(
      scope,
      ['s3:GetObject', 's3:PutObject', 's3:ListBucket'],
      [requestBucket.bucketArn, requestBucket.arnForObjects('*')],
    ),
    fromThisAccount(
      scope,
      ['s3:GetObject', 's3:ListBucket'],
      [modelBucket.bucketArn, modelBucket.arnForObjects('*')],
    ),
    // ECR hands out pre-signed URLs for the layers; the request is signed by ECR, not by our account.
    new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [`arn:${Aws.PARTITION}:s3:::prod-${Aws.REGION}-starport-layer-bucket/*`],
    }),
  ];
}

/** Interface endpoints by name (network.ts INTERFACE_ENDPOINTS), each limited to what Heritage calls. */
export function interfaceEndpointStatements(
  scope: Stack,
  access: EndpointAccess,
): Record<string, iam.PolicyStatement[]> {
  const ecr = [
    fromThisAccount(scope, ['ecr:GetAuthorizationToken'], ['*']),
    fromThisAccount(
      scope,
      ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      [access.imageRepositoryArn],
    ),
  ];
  return {
    EcrApi: ecr,
    EcrDocker: ecr,
    Logs: [fromThisAccount(scope, ['logs:CreateLogStream', 'logs:PutLogEvents'], [access.workerLogGroupArn])],
    Sqs: [
      fromThisAccount(
        scope,
        [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
        ],
        [access.workQueueArn],
      ),
    ],
    Sns: [fromThisAccount(scope, ['sns:Publish'], [access.completionsTopicArn])],
    Sts: [fromThisAccount(scope, ['sts:AssumeRole', 'sts:TagSession'], [access.requestAccessRoleArn])],
    // The ECS agent's calls; the instance role's managed policy says which. The endpoint keeps other
    // accounts' credentials out.
    Ecs: [fromThisAccount(scope, ['ecs:*'], ['*'])],
  };
}
