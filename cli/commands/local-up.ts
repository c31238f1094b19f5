/**
 * heritage local up: keeps the local stack running and prints its endpoint, so any S3 client (the AWS CLI,
 * boto3, the SDKs) can drive the pipeline the way it drives the cloud stack. Then one line per finished
 * request: its state, stage times and GPU-held time.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigInvalidError } from '../../contracts/errors.js';
import { LOCAL_CREDENTIALS } from '../../local/local-aws.js';
import { comfyUiUrlFromEnv, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { COMMON_OPTIONS, integerFlag, parseCommand } from '../args.js';
import { UsageError } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { watchCompletionEvents } from '../requests/completion-listener.js';
import { formatRequestLine } from '../requests/request-line.js';

export const LOCAL_UP_USAGE = `heritage local up [--port N] [--max-workers N] [--idle-timeout SECONDS] [--json]
  runs the local stack until Ctrl-C; --port 0 picks a free port (default 4566)
  prints a line per finished request (id, state, stage times, GPU-held time; on stderr with --json)`;

export const DEFAULT_LOCAL_PORT = 4566;

export async function localUp(args: string[]): Promise<void> {
  const options = {
    ...COMMON_OPTIONS,
    port: { type: 'string' },
    'max-workers': { type: 'string' },
    'idle-timeout': { type: 'string' },
  } as const;
  const { values } = parseCommand('local up', args, options, { min: 0, max: 0, names: 'no arguments' });
  const out = createOutput(values.json === true, 'local up');
  if (values.help === true) return out.help(LOCAL_UP_USAGE);
  const port = integerFlag('port', values.port) ?? DEFAULT_LOCAL_PORT;
  if (port < 0 || port > 65_535) throw new UsageError('--port must be between 0 and 65535');
  const maxWorkers = integerFlag('max-workers', values['max-workers']) ?? 2;
  if (maxWorkers < 1) throw new UsageError('--max-workers must be at least 1');
  const idleTimeoutSeconds = integerFlag('idle-timeout', values['idle-timeout']) ?? 30;
  const comfyUiUrl = comfyUiUrlFromEnv();
  const workDir = join(tmpdir(), `heritage-local-up-${process.pid}`);

  let workersFailed = false;
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      port,
      maxWorkers,
      idleTimeoutSeconds,
      workDir,
      ...(comfyUiUrl === undefined ? {} : { comfyUiUrl }),
      onError: (source, error) =>
        process.stderr.write(`local stack: ${source}: ${(error as Error).message}\n`),
      onWorkerExit: (exit) => {
        if (exit.code === 0) return;
        workersFailed = true;
        process.stderr.write(
          `local stack: worker ${exit.workerId} exited with ${exit.signal ?? exit.code}; log ${exit.logFile}\n`,
        );
      },
    });
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new ConfigInvalidError(
      `port ${port} on 127.0.0.1 is already in use${port === DEFAULT_LOCAL_PORT ? ' (LocalStack uses it too)' : ''}: ` +
        'stop what listens there, or choose another port with --port N (--port 0 picks a free one)',
      { cause: error },
    );
  }
  const { aws } = stack;
  const env = {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    // AWS CLI v1 reads only this one.
    AWS_DEFAULT_REGION: aws.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  };
  out.result(
    {
      endpoint: aws.endpoint,
      region: aws.region,
      bucket: aws.bucket,
      topic_arn: aws.topicArn,
      intake_queue_url: aws.intakeQueueUrl,
      work_queue_url: aws.workQueueUrl,
      engine: comfyUiUrl === undefined ? 'preview' : 'comfyui',
      worker_logs: join(workDir, 'workers'),
      env,
    },
    [
      `Heritage local stack listening on ${aws.endpoint}`,
      `  bucket ${aws.bucket}   topic ${aws.topicArn}`,
      `  engine ${comfyUiUrl === undefined ? 'preview (CPU, not AI output)' : `ComfyUI at ${comfyUiUrl}`}   worker logs ${join(workDir, 'workers')}`,
      '',
      'Point any S3 client at it:',
      `  export ${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      ...['start.png', 'end.png', 'manifest.json'].map(
        (name) =>
          `  aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp docs/walkthrough/${name} s3://${aws.bucket}/inbox/my-first/${name}`,
      ),
      '  npx heritage wait my-first --out out',
      '(the README walkthrough has the rest: subscribing to the events, heritage submit)',
      '',
      'Ctrl-C stops it. Each request that finishes gets a line here.',
    ],
  );
  const watching = new AbortController();
  const watch = watchCompletionEvents(
    stack.clients.sqs,
    aws.subscribeQueue('heritage-local-up-requests'),
    (event) => out.line(formatRequestLine(event)),
    {
      signal: watching.signal,
      onError: (error) => process.stderr.write(`local stack: request lines: ${(error as Error).message}\n`),
    },
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out.line('stopping the local stack');
  watching.abort();
  await watch;
  await stack.stop();
  // Worker logs are kept only when a worker failed; the message above named them.
  if (!workersFailed) await rm(workDir, { recursive: true, force: true });
}
