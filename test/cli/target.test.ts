import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../cli/exit-codes.js';
import { resolveTarget } from '../../cli/target.js';

// CloudFormation has no local emulator; its one call is mocked and its exact input asserted.
const cloudFormation = mockClient(CloudFormationClient);

function stackWith(outputs: Record<string, string>) {
  return {
    Stacks: [
      {
        StackName: 'Heritage-prod',
        StackStatus: 'CREATE_COMPLETE' as const,
        CreationTime: new Date(0),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

describe('which deployment the CLI talks to', () => {
  afterEach(() => {
    cloudFormation.reset();
  });

  it('reads the bucket and topic from the outputs of the stack named by --stack', async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand).resolves(
      stackWith({
        RequestBucketName: 'heritage-prod-requests',
        CompletionsTopicArn: 'arn:aws:sns:eu-west-1:1:c',
      }),
    );

    // Act
    const target = await resolveTarget({ stack: 'Heritage-prod', region: 'eu-west-1' }, {});
    target.close();

    // Assess
    expect(cloudFormation.commandCalls(DescribeStacksCommand).map((call) => call.args[0].input)).toEqual([
      { StackName: 'Heritage-prod' },
    ]);
    expect(target).toMatchObject({
      mode: 'cloud',
      bucket: 'heritage-prod-requests',
      topicArn: 'arn:aws:sns:eu-west-1:1:c',
      endpoint: undefined,
    });
  });

  it('looks up the stack named Heritage when no stack or bucket is given', async () => {
    // Prepare
    cloudFormation
      .on(DescribeStacksCommand)
      .resolves(stackWith({ RequestBucketName: 'b', CompletionsTopicArn: 'arn:aws:sns:us-east-1:1:c' }));

    // Act
    const target = await resolveTarget({}, { AWS_REGION: 'us-east-1' });
    target.close();

    // Assess
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({
      StackName: 'Heritage',
    });
  });

  it('skips the lookup when the bucket comes from a flag or REQUEST_BUCKET', async () => {
    // Act
    const fromFlag = await resolveTarget({ bucket: 'flag-bucket', region: 'us-east-1' }, {});
    const fromEnv = await resolveTarget({}, { REQUEST_BUCKET: 'env-bucket', AWS_REGION: 'us-east-1' });
    fromFlag.close();
    fromEnv.close();

    // Assess
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    expect([fromFlag.bucket, fromEnv.bucket]).toEqual(['flag-bucket', 'env-bucket']);
  });

  it('reports a stack without the Heritage outputs as an infrastructure error (exit 4)', async () => {
    // Prepare
    cloudFormation.on(DescribeStacksCommand).resolves(stackWith({ SomethingElse: 'x' }));

    // Act
    const failure = await resolveTarget({ stack: 'NotHeritage', region: 'us-east-1' }, {}).catch(
      (error: unknown) => error,
    );

    // Assess
    expect((failure as Error).message).toContain('stack NotHeritage lacks the outputs RequestBucketName');
    expect(exitCodeFor(failure)).toBe(4);
  });

  it('uses a local stack, with its bucket name, when an endpoint is set', async () => {
    // Act
    const target = await resolveTarget({}, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' });
    target.close();

    // Assess
    expect(cloudFormation.commandCalls(DescribeStacksCommand)).toHaveLength(0);
    expect(target).toMatchObject({
      mode: 'local',
      bucket: 'heritage-requests',
      endpoint: 'http://127.0.0.1:4566',
    });
  });
});
