import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { buildHeritage, existingVpcContext, TEST_ENV } from './support/heritage-app.js';
import { nagFindings, temporaryOutdir } from './support/nag-findings.js';

describe('cdk-nag AwsSolutions checks', () => {
  it('find nothing unacknowledged in the default deployment', () => {
    // Prepare
    const { app } = buildHeritage({}, { outdir: temporaryOutdir() });

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toEqual([]);
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
      { outdir: temporaryOutdir(), env: TEST_ENV },
    );

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toEqual([]);
  });

  it('do report a finding on a resource nobody acknowledged, so the checks above can fail', () => {
    // Prepare
    const app = new App({ outdir: temporaryOutdir() });
    new s3.Bucket(new Stack(app, 'Plain'), 'Unhardened');

    // Act
    const findings = nagFindings(app);

    // Assess
    expect(findings).toContain('AwsSolutions-S1 | Plain/Unhardened/Resource');
  });
});
