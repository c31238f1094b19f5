/**
 * `cdk synth` / `cdk deploy` entry point (cdk.json). The stack is environment-agnostic unless an
 * existing VPC is named, which needs a lookup in the deployment's account and Region.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, readConfig } from './config.js';
import { SizingError } from './sizing.js';
import { HeritageStack } from './stack.js';

function synthesize(): void {
  const app = new App();
  const config = readConfig((key) => app.node.tryGetContext(key));
  new HeritageStack(app, config.stackName, {
    config,
    description: 'Heritage: start and end frame in, video frames out (Wan2.2 + RIFE on AWS Batch p5)',
    env: config.vpcId
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
  });
  // Every synth and deploy runs the AWS Solutions checks: an unacknowledged finding stops it.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

try {
  synthesize();
} catch (error) {
  // A configuration mistake is the operator's to fix: say what is wrong, without a stack trace.
  if (!(error instanceof ConfigError || error instanceof SizingError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
