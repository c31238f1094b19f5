/**
 * Where the GPU workers run: isolated subnets with no route out of the VPC, no NAT gateway and no
 * internet gateway. S3 is reached through a gateway endpoint, and the AWS APIs the instance and the
 * worker call through interface endpoints; each endpoint's policy admits Heritage's resources only
 * (endpoint-policies.ts). A VPC the operator brings must offer isolated subnets and the same endpoints.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOG_GROUP_KMS_SKIP, skipCheckov } from './checkov.js';
import {
  type EndpointAccess,
  FULL_ACCESS_ONLY,
  interfaceEndpointStatements,
  s3EndpointStatements,
} from './endpoint-policies.js';

export interface NetworkProps {
  /** Use this VPC instead of creating one; the workers go into its isolated subnets. */
  readonly vpcId?: string | undefined;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Every AWS API a worker instance calls: image pulls (ECR API and registry; the layers come from S3),
 * container logs, the work queue, completion events, per-request credentials (STS), and the ECS agent's
 * three endpoints (API, agent channel, telemetry), without which the instance never joins the cluster.
 */
export const INTERFACE_ENDPOINTS = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
  Ecs: ec2.InterfaceVpcEndpointAwsService.ECS,
  EcsAgent: ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
  EcsTelemetry: ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
} as const;

export type InterfaceEndpointName = keyof typeof INTERFACE_ENDPOINTS;

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly workerSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  /** The endpoints of a created VPC; a brought VPC's are the operator's. */
  readonly s3Endpoint?: ec2.GatewayVpcEndpoint;
  readonly interfaceEndpoints: Partial<Record<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>> = {};

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    if (props.vpcId) {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
      if (this.vpc.isolatedSubnets.length === 0) {
        throw new Error(
          `VPC ${props.vpcId} has no isolated subnets: Heritage workers run only where no route leads out of the VPC (docs/architecture.md, "Infrastructure")`,
        );
      }
      return;
    }

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 0,
      subnetConfiguration: [
        // Reserved, not created: it keeps the workers' address ranges where earlier versions put them,
        // so an update changes their routes in place instead of replacing the subnets.
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, reserved: true },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 20 },
      ],
    });
    this.s3Endpoint = vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.workerSubnets],
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', { retention: props.logRetention });
    skipCheckov(flowLogGroup, LOG_GROUP_KMS_SKIP);
    vpc.addFlowLog('FlowLogs', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
    for (const [name, service] of Object.entries(INTERFACE_ENDPOINTS)) {
      const endpoint = vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.workerSubnets,
        privateDnsEnabled: true,
      });
      Validations.of(endpoint.node.findChild('SecurityGroup')).acknowledge({
        id: 'AwsSolutions-EC23',
        reason:
          'Inbound is HTTPS from the VPC CIDR only; the rule cannot resolve the CIDR token to see that.',
      });
      this.interfaceEndpoints[name as InterfaceEndpointName] = endpoint;
    }
    this.vpc = vpc;
  }

  /**
   * Limits the created endpoints to Heritage's resources. ECS's agent and telemetry endpoints take no
   * policy but full access (FULL_ACCESS_ONLY); they carry only the agent's own channel.
   */
  restrictEndpoints(access: EndpointAccess): void {
    const stack = Stack.of(this);
    for (const statement of s3EndpointStatements(stack, access)) this.s3Endpoint?.addToPolicy(statement);
    const statements = interfaceEndpointStatements(stack, access);
    for (const [name, endpoint] of Object.entries(this.interfaceEndpoints)) {
      if ((FULL_ACCESS_ONLY as readonly string[]).includes(name)) continue;
      const forEndpoint = statements[name];
      if (forEndpoint === undefined) throw new Error(`no endpoint policy for ${name}`);
      for (const statement of forEndpoint) endpoint.addToPolicy(statement);
    }
  }
}
