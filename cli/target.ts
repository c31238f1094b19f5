/**
 * Which Heritage deployment a command talks to. With an endpoint (--endpoint, HERITAGE_ENDPOINT or
 * AWS_ENDPOINT_URL) it is a local stack such as `heritage local up`. Otherwise it is the cloud stack: the
 * bucket and topic come from --bucket/--topic-arn, then REQUEST_BUCKET/COMPLETIONS_TOPIC_ARN, then the
 * CloudFormation outputs of --stack (default "Heritage"); credentials come from the default provider chain.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import { ObjectStatusStore } from '../contracts/lifecycle/status-store.js';
import {
  DEFAULT_STACK_NAME,
  type StackOutputKey,
  type StackOutputs,
  StackOutputsSchema,
} from '../contracts/stack-outputs.js';
import { localAwsClients } from '../local/aws-clients.js';
import { LOCAL_NAMES, LOCAL_REGION } from '../local/local-aws.js';
import type { TargetFlags } from './args.js';

export interface Target {
  mode: 'local' | 'cloud';
  bucket: string;
  topicArn: string | undefined;
  endpoint: string | undefined;
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  objects: S3ObjectStore;
  statuses: ObjectStatusStore;
  close(): void;
}

/** A stack, or its outputs, could not be found or read. */
export class StackLookupError extends Error {
  override readonly name = 'StackLookupError';
}

/** Reads outputs of a deployed stack; infra/stack.ts writes them all (contracts/stack-outputs.ts). */
export async function readStackOutputs<K extends StackOutputKey>(
  stackName: string,
  region: string | undefined,
  keys: readonly K[],
): Promise<Pick<StackOutputs, K>> {
  const cloudFormation = new CloudFormationClient(region === undefined ? {} : { region });
  try {
    const out = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Object.fromEntries(
      (out.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
    const parsed = StackOutputsSchema.partial().parse(outputs);
    const missing = keys.filter((key) => parsed[key] === undefined);
    if (missing.length > 0) {
      throw new StackLookupError(
        `stack ${stackName} lacks the outputs ${missing.join(' and ')}; is it a Heritage stack, deployed from this version?`,
      );
    }
    return parsed as Pick<StackOutputs, K>;
  } catch (error) {
    if (error instanceof StackLookupError) throw error;
    throw new StackLookupError(
      `could not read the outputs of stack ${stackName}: ${(error as Error).message}. ` +
        'Check AWS_REGION and the credentials, or pass --stack NAME, or --bucket to skip the lookup.',
      { cause: error },
    );
  } finally {
    cloudFormation.destroy();
  }
}

export async function resolveTarget(
  flags: TargetFlags,
  env: Record<string, string | undefined> = process.env,
): Promise<Target> {
  const endpoint = flags.endpoint ?? env.HERITAGE_ENDPOINT ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined && endpoint !== '') {
    const region = flags.region ?? env.AWS_REGION ?? LOCAL_REGION;
    const clients = localAwsClients(endpoint, { region });
    const bucket = flags.bucket ?? env.REQUEST_BUCKET ?? LOCAL_NAMES.bucket;
    const objects = new S3ObjectStore(clients.s3, bucket);
    return {
      mode: 'local',
      bucket,
      topicArn: flags['topic-arn'] ?? env.COMPLETIONS_TOPIC_ARN,
      endpoint,
      ...clients,
      objects,
      statuses: new ObjectStatusStore(objects),
      close: () => {
        for (const client of Object.values(clients)) client.destroy();
      },
    };
  }
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  let bucket = flags.bucket ?? env.REQUEST_BUCKET;
  let topicArn = flags['topic-arn'] ?? env.COMPLETIONS_TOPIC_ARN;
  if (bucket === undefined) {
    const outputs = await readStackOutputs(flags.stack ?? env.HERITAGE_STACK ?? DEFAULT_STACK_NAME, region, [
      'RequestBucketName',
      'CompletionsTopicArn',
    ]);
    bucket = outputs.RequestBucketName;
    topicArn ??= outputs.CompletionsTopicArn;
  }
  const common = region === undefined ? {} : { region };
  const s3 = new S3Client(common);
  const sqs = new SQSClient(common);
  const sns = new SNSClient(common);
  const objects = new S3ObjectStore(s3, bucket);
  return {
    mode: 'cloud',
    bucket,
    topicArn,
    endpoint: undefined,
    s3,
    sqs,
    sns,
    objects,
    statuses: new ObjectStatusStore(objects),
    close: () => {
      for (const client of [s3, sqs, sns]) client.destroy();
    },
  };
}
