import { rmSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHeritage, existingVpcContext, TEST_ENV } from './support/heritage-app.js';
import { nagFindings, temporaryOutdir } from './support/nag-findings.js';

describe('cdk-nag AwsSolutions checks', () => {
  const outdirs: string[] = [];
  const outdir = () => {
    const dir = temporaryOutdir();
    outdirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it('find nothing unacknowledged in the default deployment', () => {
    // Prepare
    const { app } = buildHeritage({}, { outdir: outdir() });

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toEqual([]);
  });

  it('do see the Heritage stack: a wildcard grant nobody acknowledged is reported', () => {
    // Prepare
    const { app, stack } = buildHeritage({}, { outdir: outdir() });
    stack.workers.jobRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::elsewhere/*'] }),
    );

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:s3:::elsewhere/*] | Heritage/Workers/JobRole/DefaultPolicy/Resource',
    ]);
  });

  it('find nothing unacknowledged with every option set: Spot, e-mail, existing VPC and model bucket', () => {
    // Prepare
    const { app } = buildHeritage(
      {
        spot: true,
        alarmEmail: 'oncall@example.com',
        ...existingVpcContext(),
        modelBucketName: 'acme-heritage-models',
        instanceTypes: ['p5.4xlarge', 'p5.48xlarge'],
      },
      { outdir: outdir(), env: TEST_ENV },
    );

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toEqual([]);
  });

  it('do report a finding on a resource nobody acknowledged, so the checks above can fail', () => {
    // Prepare
    const app = new App({ outdir: outdir() });
    new s3.Bucket(new Stack(app, 'Plain'), 'Unhardened');

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toContain('AwsSolutions-S1 | Plain/Unhardened/Resource');
  });
});
