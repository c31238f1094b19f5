/**
 * Where `heritage models sync` mirrors to. By default, where the deployed stack's workers read: the
 * `ModelBucketName` and `ModelPrefix` outputs of --stack, as the other cloud commands read theirs. With
 * --bucket (or MODEL_BUCKET) there is no lookup, and the prefix defaults to the stack's default,
 * `models/`, which the worker's IAM policy allows. With an endpoint it is the local stack's model bucket.
 */
import {
  DEFAULT_MODEL_PREFIX,
  DEFAULT_STACK_NAME,
  type StackOutputs,
} from '../../contracts/stack-outputs.js';
import { LOCAL_NAMES } from '../../local/local-aws.js';

export interface ModelTargetFlags {
  stack?: string | undefined;
  bucket?: string | undefined;
  prefix?: string | undefined;
  endpoint?: string | undefined;
  region?: string | undefined;
}

export interface ModelTarget {
  bucket: string;
  prefix: string;
  /** Where bucket and prefix came from, for the line that says so. */
  from: string;
  /** Said when the prefix is not the one the stack's workers read. */
  warning?: string;
  endpoint?: string;
  region?: string;
}

export type ReadModelOutputs = (
  stack: string,
  region: string | undefined,
) => Promise<Pick<StackOutputs, 'ModelBucketName' | 'ModelPrefix'>>;

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

export async function resolveModelTarget(
  flags: ModelTargetFlags,
  env: Record<string, string | undefined>,
  readOutputs: ReadModelOutputs,
): Promise<ModelTarget> {
  const region = nonEmpty(flags.region) ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  const where = region === undefined ? {} : { region };
  const bucket = nonEmpty(flags.bucket) ?? nonEmpty(env.MODEL_BUCKET);
  const prefix = flags.prefix ?? env.MODEL_PREFIX;
  const endpoint =
    nonEmpty(flags.endpoint) ?? nonEmpty(env.HERITAGE_ENDPOINT) ?? nonEmpty(env.AWS_ENDPOINT_URL);
  if (endpoint !== undefined) {
    // The local workers read MODEL_PREFIX unset: the bucket's root.
    return {
      bucket: bucket ?? LOCAL_NAMES.modelBucket,
      prefix: prefix ?? '',
      from: 'the local stack',
      endpoint,
      ...where,
    };
  }
  if (bucket !== undefined) {
    return { bucket, prefix: prefix ?? DEFAULT_MODEL_PREFIX, from: '--bucket / MODEL_BUCKET', ...where };
  }
  const stack = nonEmpty(flags.stack) ?? nonEmpty(env.HERITAGE_STACK) ?? DEFAULT_STACK_NAME;
  const outputs = await readOutputs(stack, region);
  const target: ModelTarget = {
    bucket: outputs.ModelBucketName,
    prefix: prefix ?? outputs.ModelPrefix,
    from: `the outputs of stack ${stack}`,
    ...where,
  };
  if (target.prefix !== outputs.ModelPrefix) {
    target.warning =
      `the workers of stack ${stack} read models under ${outputs.ModelPrefix} only; ` +
      `models under ${target.prefix} are not where they look`;
  }
  return target;
}
