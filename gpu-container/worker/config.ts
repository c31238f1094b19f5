/** The worker's configuration: process.env parsed once, failing fast with the variable's name. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEnvironment } from '../../contracts/environment.js';

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const seconds = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** Scratch space when WORK_DIR is not set (the image sets /scratch). */
export const DEFAULT_WORK_DIR = join(tmpdir(), 'heritage-worker');

export const WorkerConfigSchema = z.object({
  REQUEST_BUCKET: z.string().min(1).describe('Bucket holding inbox/, requests/ and outputs/.'),
  WORK_QUEUE_URL: z.string().url().describe('SQS work queue the worker long-polls.'),
  COMPLETIONS_TOPIC_ARN: z.string().min(1).describe('SNS topic for completion events.'),
  IDLE_TIMEOUT_SECONDS: seconds(60).describe(
    'Exit 0 after this long without work (0: one request, then exit).',
  ),
  REQUEST_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(900)
    .describe('A render that runs longer fails with REQUEST_TIMEOUT.'),
  COMFYUI_URL: optionalString.describe(
    'ComfyUI to render with; without it the worker uses the CPU preview engine.',
  ),
  COMFYUI_DIR: optionalString.describe('ComfyUI installation on this host.'),
  WORKER_ENGINE: z
    .enum(['managed', 'remote', 'preview'])
    .optional()
    .describe(
      "'managed': provision the models and run ComfyUI from COMFYUI_DIR (the GPU image); 'remote': render with the " +
        "ComfyUI at COMFYUI_URL; 'preview': the CPU preview engine. When absent: remote if COMFYUI_URL is set, else " +
        'managed if COMFYUI_DIR is set, else preview.',
    ),
  COMFYUI_INPUT_DIR: optionalString.describe(
    "ComfyUI's --input-directory on this host (default COMFYUI_DIR/input); request inputs are removed there.",
  ),
  COMFYUI_OUTPUT_DIR: optionalString.describe(
    "ComfyUI's --output-directory on this host (default COMFYUI_DIR/output); frames are read and removed there.",
  ),
  WORKFLOW: z.string().min(1).default('wan22-flf2v-rife').describe('Workflow folder under WORKFLOWS_DIR.'),
  WORKFLOWS_DIR: optionalString.describe('Where workflow folders live; gpu-container/workflows by default.'),
  WORK_DIR: z.string().min(1).default(DEFAULT_WORK_DIR).describe('Scratch space for requests.'),
  REQUEST_ACCESS_ROLE_ARN: optionalString
    .pipe(
      z
        .string()
        .regex(/^arn:[a-z-]+:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
        .optional(),
    )
    .describe(
      "Role assumed once per request with a session policy for that request's prefixes; its credentials are the only ones that reach the request bucket. Absent locally, where there is no IAM and every request shares one store.",
    ),
  AWS_ENDPOINT_URL: optionalString.describe('Endpoint for S3, SQS and SNS (the local emulator).'),
  AWS_REGION: optionalString.describe('Region of the clients; the SDK default chain applies when absent.'),
  FFMPEG_PATH: optionalString.describe('ffmpeg binary; the npm-shipped one when absent.'),
  WORKER_ID: optionalString.describe('Recorded in status.json; the Batch job id in the cloud.'),
  WORK_VISIBILITY_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(12 * 60 * 60)
    .optional()
    .describe(
      "Visibility a received message gets and each heartbeat renews; REQUEST_TIMEOUT_SECONDS + 120 when absent. Short in fault drills, so a killed worker's request comes back quickly.",
    ),
  UPLOAD_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(128)
    .default(32)
    .describe('Frames uploaded at once; see docs/benchmarks.md, Frame upload.'),
  OVERLAP_DELIVERY: z
    .stringbool()
    .default(false)
    .describe(
      "'true': render the next request while the previous one uploads its frames and encodes its video (at most one of each). Off by default: on today's workflow the delivery is short beside the render, and a worker crash then ends two attempts; see docs/architecture.md and docs/benchmarks.md, Overlapped delivery.",
    ),
});

export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnvironment('worker', WorkerConfigSchema, env);
}
