/**
 * Builds the Heritage stack the way `cdk synth` does (cdk.json context, same props), except that
 * Lambda bundling is skipped: the fine-grained tests look at CloudFormation, not at bundles.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { readConfig } from '../../../infra/config.js';
import { HeritageStack } from '../../../infra/stack.js';

export const REPOSITORY_ROOT = path.join(import.meta.dirname, '..', '..', '..');

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface HeritageApp {
  readonly app: App;
  readonly stack: HeritageStack;
  readonly template: Template;
}

export interface BuildOptions {
  readonly env?: { account: string; region: string };
  readonly outdir?: string;
}

export const EXISTING_VPC_ID = 'vpc-0123456789abcdef0';
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

/** Context for a deployment into an existing VPC, with the answer `cdk` would cache from the VPC lookup. */
export function existingVpcContext(): Record<string, unknown> {
  const lookupKey = `vpc-provider:account=${TEST_ENV.account}:filter.vpc-id=${EXISTING_VPC_ID}:region=${TEST_ENV.region}:returnAsymmetricSubnets=true`;
  const answer = JSON.parse(
    readFileSync(path.join(REPOSITORY_ROOT, 'test', 'fixtures', 'vpc-lookup.json'), 'utf8'),
  );
  return { vpcId: EXISTING_VPC_ID, [lookupKey]: answer };
}

/** A fresh App and Stack with cdk.json's context plus `context` overrides. */
export function buildHeritage(
  context: Record<string, unknown> = {},
  options: BuildOptions = {},
): HeritageApp {
  const app = new App({
    outdir: options.outdir,
    context: { ...cdkJsonContext(), ...context, 'aws:cdk:bundling-stacks': [] },
  });
  const config = readConfig((key) => app.node.tryGetContext(key));
  const stack = new HeritageStack(app, config.stackName, { config, env: options.env });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The resources of one CloudFormation type, keyed by logical id. */
export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** The CloudFormation logical id of an L2 construct's resource. */
export function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The non-default configurations that the template linters (cfn-lint, checkov) check besides the default. */
export function lintedConfigurations(): [Record<string, unknown>, BuildOptions['env']][] {
  return [
    [{ spot: true, instanceTypes: ['p5.4xlarge'], alarmEmail: 'oncall@example.com' }, undefined],
    [
      { ...existingVpcContext(), modelBucketName: 'acme-heritage-models', stackName: 'HeritageByo' },
      TEST_ENV,
    ],
  ];
}

/** Synthesizes one configuration into `outdir` and returns the path of its template. */
export function synthesizeTemplate(
  context: Record<string, unknown>,
  env: BuildOptions['env'],
  outdir: string,
): string {
  const { app, stack } = buildHeritage(context, { outdir, env });
  app.synth();
  return path.join(outdir, stack.templateFile);
}
