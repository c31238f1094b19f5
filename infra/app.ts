/**
 * `cdk synth` / `cdk deploy` entry point (cdk.json). The stack is environment-agnostic unless an
 * existing VPC is named, which needs a lookup in the deployment's account and Region.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config.js';
import { HeritageStack } from './stack.js';

const app = new App();
const config = readConfig((key) => app.node.tryGetContext(key));
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new HeritageStack(app, config.stackName, {
  config,
  description: 'Heritage: start and end frame in, video frames out (Wan2.2 + RIFE on AWS Batch p5)',
  env: config.vpcId ? { account, region } : undefined,
});
// Every synth and deploy runs the AWS Solutions checks: an unacknowledged finding stops it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
