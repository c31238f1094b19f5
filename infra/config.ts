/**
 * The deployment's settings. Every one comes from CDK context (cdk.json or `cdk deploy -c key=value`)
 * and is parsed here once, at synth time, so a bad value stops the synth with the key's name.
 */
import { z } from 'zod';
import { DEFAULT_MODEL_PREFIX, DEFAULT_STACK_NAME } from '../contracts/stack-outputs.js';
import { GPU_INSTANCE_TYPE_NAMES } from './instance-types.js';

/** The log retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653];

/**
 * On-demand price of one H100 GPU-hour: p5.48xlarge at $55.04/hour for 8 GPUs, us-east-1, the public
 * on-demand price after AWS's June 2025 P5 price reduction (README "Cost").
 */
export const ON_DEMAND_GPU_HOUR_USD = 6.88;
/**
 * Spot price of one H100 GPU-hour, for planning only: 40% of on-demand. Spot prices for P5 move with
 * spare capacity, per Availability Zone, and have no published fixed rate; replace it with a figure
 * from `aws ec2 describe-spot-price-history --instance-types p5.48xlarge` divided by 8 (README "Cost").
 */
export const SPOT_GPU_HOUR_USD = 2.75;

/** `-c key=value` always arrives as a string; cdk.json arrives typed. Both must parse. */
const flag = z.preprocess((value) => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}, z.boolean());

const list = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean)
      : value,
  z.array(z.enum(GPU_INSTANCE_TYPE_NAMES)).min(1),
);

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const HeritageConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default(DEFAULT_STACK_NAME),
    instanceTypes: list
      .default(['p5.48xlarge'])
      .describe('EC2 types for the workers: p5.48xlarge, p5.4xlarge, p5e.48xlarge, p5en.48xlarge.'),
    maxWorkers: count(1, 256).default(8).describe('Most worker jobs (one GPU each) at once.'),
    spot: flag.default(false).describe('Run workers on Spot capacity; a reclaimed job is retried.'),
    workerIdleTimeoutSeconds: count(0, 3600)
      .default(300)
      .describe('A worker exits after this long without work; 0 = one request per job.'),
    requestTimeoutSeconds: count(60, 3600).default(900).describe('Longest one request may run on a GPU.'),
    jobAttemptTimeoutSeconds: count(600, 14 * 24 * 3600)
      .default(8 * 3600)
      .describe('Batch stops a worker job after this long; its in-flight request goes back to the queue.'),
    runnableTimeoutMinutes: count(10, 24 * 60)
      .default(30)
      .describe('A worker job RUNNABLE this long without capacity is cancelled; reconcile submits again.'),
    workMaxReceiveCount: count(1, 10).default(3).describe('Deliveries of a work message before the DLQ.'),
    outputRetentionDays: count(1, 3650).default(30).describe('outputs/ and requests/ expire after this.'),
    inboxRetentionDays: count(1, 3650).default(7).describe('inbox/ uploads expire after this.'),
    logRetentionDays: z.coerce
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    alarmEmail: z.email().optional().describe('Subscribed to the alarm topic when set.'),
    vpcId: z
      .string()
      .regex(/^vpc-[0-9a-f]{8,17}$/)
      .optional()
      .describe(
        'Use this VPC instead of creating one: workers run in its isolated subnets, which need the VPC endpoints (docs/architecture.md).',
      ),
    modelBucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .optional()
      .describe('Use this existing bucket for the model mirror instead of creating one.'),
    modelPrefix: z
      .string()
      .regex(/^([A-Za-z0-9_.-]+\/)+$/, 'must be one or more path segments ending in "/", e.g. "models/"')
      .default(DEFAULT_MODEL_PREFIX),
    workflow: z.string().min(1).default('wan22-flf2v-rife'),
    gpuHourPriceUsd: z.coerce
      .number()
      .positive()
      .default(ON_DEMAND_GPU_HOUR_USD)
      .describe(
        "USD per GPU-hour on demand, for the dashboard's cost widgets: p5.48xlarge $55.04/h / 8 GPUs, us-east-1, after the June 2025 P5 price cut.",
      ),
    spotGpuHourPriceUsd: z.coerce
      .number()
      .positive()
      .default(SPOT_GPU_HOUR_USD)
      .describe(
        'USD per GPU-hour on Spot, for the cost widgets: a planning figure (40% of on-demand), not a quote; set it from the Spot price history.',
      ),
    sharedMemoryMiB: count(64, 1024 * 1024)
      .optional()
      .describe('Override /dev/shm per worker.'),
  })
  .strict();

export type HeritageConfig = z.infer<typeof HeritageConfigSchema>;
export const CONFIG_KEYS = Object.keys(HeritageConfigSchema.shape) as (keyof HeritageConfig)[];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses raw context values; throws one error naming every bad key. */
export function parseConfig(raw: Record<string, unknown>): HeritageConfig {
  const result = HeritageConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key =
      issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)');
    return `  - ${key}: ${issue.message}`;
  });
  throw new ConfigError(
    `Invalid Heritage configuration (cdk.json "context" or -c key=value):\n${problems.join('\n')}`,
  );
}

/** Reads the Heritage keys from a construct's context; unset keys take their defaults. */
export function readConfig(tryGetContext: (key: string) => unknown): HeritageConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = tryGetContext(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseConfig(raw);
}
