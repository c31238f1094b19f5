/** SDK v3 clients for an endpoint: the local stack when `endpoint` is given, real AWS otherwise. */

import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CALL_TIMEOUTS } from '../adapters/aws/call-timeouts.js';
import type { ModelSourceDescriptor } from '../contracts/model-source.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-aws.js';

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
}

export function localAwsClients(
  endpoint: string,
  options: { region?: string; maxAttempts?: number } = {},
): AwsClients {
  const common = {
    ...CALL_TIMEOUTS,
    endpoint,
    region: options.region ?? LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    sqs: new SQSClient(common),
    sns: new SNSClient(common),
  };
}

/** The model bucket of the local stack at `endpoint`, as download threads open it (S3ModelSource.open). */
export function localModelSource(endpoint: string, bucket: string): ModelSourceDescriptor {
  return {
    bucket,
    endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: { ...LOCAL_CREDENTIALS },
  };
}
