/**
 * Where the GPU workers run: private subnets only. A created VPC gets an S3 gateway endpoint (model
 * and frame traffic, free) and interface endpoints for the chatty services, so that little crosses
 * the NAT gateway. A VPC the operator brings is used as it is.
 */
import { Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LOG_GROUP_KMS_SKIP, skipCheckov } from './checkov.js';

export interface NetworkProps {
  /** Use this VPC instead of creating one; it needs private subnets with egress. */
  readonly vpcId?: string | undefined;
  readonly logRetention: logs.RetentionDays;
}

/** Interface endpoints that carry the image pull, logs and queue/topic traffic off the NAT gateway. */
export const INTERFACE_ENDPOINTS = {
  EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
} as const;

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly workerSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);

    if (props.vpcId) {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
      return;
    }

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
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
    }
    this.vpc = vpc;
  }
}
