/**
 * The one way Heritage builds a Lambda function: Node 22 on arm64, an ESM bundle with source maps
 * made by the local esbuild, an explicit log group, X-Ray tracing and the Powertools environment.
 * Its role starts empty: each caller grants exactly what its handler needs.
 */
import { type Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../contracts/metrics.js';
import { type CheckovSkip, LOG_GROUP_KMS_SKIP, skipCheckov } from './checkov.js';

export interface HeritageFunctionProps {
  /** Path of the handler module, e.g. functions/dispatch/handler.ts. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  /** Caps concurrent runs where fan-out would hit a quota (Batch SubmitJob, ListJobs). */
  readonly reservedConcurrentExecutions?: number;
}

/** esbuild emits ESM, but some bundled CommonJS dependencies still call require() for Node built-ins. */
const ESM_REQUIRE_SHIM =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** Checks that do not fit Heritage's control-plane functions, for the reasons given. */
export const HERITAGE_FUNCTION_CHECKOV_SKIPS: CheckovSkip[] = [
  {
    id: 'CKV_AWS_116',
    comment:
      "Invoked by SQS event source mappings (failures go to the source queue's redrive DLQ) or by the one-minute schedule (the next run repeats the work); a Lambda DLQ only catches asynchronous invocations.",
  },
  {
    id: 'CKV_AWS_117',
    comment:
      'Calls only AWS APIs (S3, SQS, SNS, Batch) and reaches nothing inside a VPC; a VPC would add ENIs and endpoints for no isolation gain.',
  },
  {
    id: 'CKV_AWS_173',
    comment:
      'The environment holds resource names, ARNs and settings, never secrets; Lambda encrypts it at rest with its service key.',
  },
];

export class HeritageFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HeritageFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    skipCheckov(this.logGroup, LOG_GROUP_KMS_SKIP);

    // An own role instead of the default one: the default attaches the managed
    // AWSLambdaBasicExecutionRole, which may write to any log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        sourceMap: true,
        minify: true,
        // Bundle the SDK too: the versions the tests ran against, not whatever the runtime ships.
        externalModules: [],
        banner: ESM_REQUIRE_SHIM,
        forceDockerBundling: false,
      },
    });

    skipCheckov(this.function, ...HERITAGE_FUNCTION_CHECKOV_SKIPS);
    if (props.reservedConcurrentExecutions === undefined) {
      skipCheckov(this.function, {
        id: 'CKV_AWS_115',
        comment:
          'No reserved concurrency: its event source bounds it (SQS maxConcurrency on the dead-letter queues), and reserving would take capacity from the account for a function that runs rarely.',
      });
    }

    // The tests assert that X-Ray's are the only `Resource: *` statements in this policy.
    const defaultPolicy = this.role.node.findChild('DefaultPolicy');
    Validations.of(defaultPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions.',
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Heritage pins Node 22 across toolchain, tests and worker; the runtime moves with them, not alone.',
    });
  }
}
