/**
 * heritage demo (npm run demo): the whole pipeline on this machine. It starts the local stack, draws two
 * frames, submits them through the S3 API, waits for the completion event through an SNS→SQS
 * subscription, and downloads frames, video.mp4 and result.json into <out>/<id>/. It reports the
 * metrics the worker emitted for the request, as CloudWatch would read them.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompletionEvent } from '../../contracts/event.js';
import { demoImages } from '../../local/demo/demo-images.js';
import { DEMO_MANIFEST } from '../../local/demo/demo-manifest.js';
import { type RequestMetric, readWorkerEmf, requestMetrics } from '../../local/emf-records.js';
import { comfyUiUrlFromEnv, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import type { WorkerExit } from '../../local/local-worker-launcher.js';
import { newRequestId, prepareSubmission } from '../../local/submission/prepare-submission.js';
import { uploadSubmission } from '../../local/submission/upload-submission.js';
import { COMMON_OPTIONS, integerFlag, parseCommand, secondsFlag } from '../args.js';
import { RequestFailedError, UsageError } from '../exit-codes.js';
import { createOutput, formatBytes, formatSeconds, type Output } from '../output.js';
import { createProgress, type Stage } from '../progress.js';
import { waitForCompletionEvent } from '../requests/completion-listener.js';
import { type DownloadedOutputs, describeOutputs, downloadOutputs } from '../requests/download-outputs.js';

export const DEMO_USAGE = `heritage demo [--out DIR] [--timeout SECONDS] [--max-workers N] [--json]
  runs the whole pipeline locally and writes DIR/<id>/{frames/,video.mp4,result.json} (default ./out)
  the engine is ComfyUI when COMFYUI_URL is set, otherwise the CPU preview engine`;

const PREVIEW_NOTICE =
  'The preview engine is motion-compensated interpolation (ffmpeg minterpolate) on the CPU: it is NOT AI output. ' +
  'Set COMFYUI_URL to a ComfyUI with the Wan2.2 models to run the real workflow.';

async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const DISPATCH_CLAIM_LIMIT_MS = 60_000;

/** Dispatch did not claim the request: the local stack's fault (exit code 4). */
class DispatchStalledError extends Error {
  override readonly name = 'DispatchStalledError';
  constructor(problems: string[]) {
    const seen = problems.length === 0 ? 'no error was reported' : problems.slice(-3).join('\n  ');
    super(`dispatch did not claim the demo request within ${DISPATCH_CLAIM_LIMIT_MS / 1000} s:\n  ${seen}`);
  }
}

/** A local worker died: the local stack's fault, not the request's (exit code 4). */
class WorkerCrashError extends Error {
  override readonly name = 'WorkerCrashError';
  constructor(exit: WorkerExit, log: string) {
    super(
      `worker ${exit.workerId} exited with ${exit.signal ?? `code ${exit.code}`}; log ${exit.logFile}:\n${log}`,
    );
  }
}

export async function demo(args: string[]): Promise<void> {
  const options = {
    ...COMMON_OPTIONS,
    out: { type: 'string' },
    timeout: { type: 'string' },
    'max-workers': { type: 'string' },
  } as const;
  const { values } = parseCommand('demo', args, options, { min: 0, max: 0, names: 'no arguments' });
  const out = createOutput(values.json === true, 'demo');
  if (values.help === true) return out.help(DEMO_USAGE);
  const timeoutMs = secondsFlag('timeout', values.timeout, 600) * 1000;
  const maxWorkers = integerFlag('max-workers', values['max-workers']) ?? 1;
  if (maxWorkers < 1) throw new UsageError('--max-workers must be at least 1');
  const outRoot = values.out ?? 'out';
  const comfyUiUrl = comfyUiUrlFromEnv();

  const id = `demo-${newRequestId()}`;
  const workDir = join(tmpdir(), `heritage-${id}`);
  const crashes: WorkerExit[] = [];
  const backgroundErrors: string[] = [];
  out.line(
    `heritage demo: starting the local stack (engine: ${comfyUiUrl === undefined ? 'preview' : `ComfyUI at ${comfyUiUrl}`})`,
  );
  const stack = await startLocalStack({
    maxWorkers,
    idleTimeoutSeconds: 5,
    workDir,
    ...(comfyUiUrl === undefined ? {} : { comfyUiUrl }),
    onWorkerExit: (exit) => {
      if (exit.code !== 0) crashes.push(exit);
    },
    onError: (source, error) => backgroundErrors.push(`${source}: ${(error as Error).message}`),
  });
  let finished: FinishedDemo | undefined;
  try {
    finished = await runDemo(stack, { id, outRoot, timeoutMs, out, crashes, backgroundErrors });
  } finally {
    // Stopped first: a worker's last lines are in its log once it has exited.
    await stack.stop();
    if (finished === undefined) out.line(`heritage demo: worker logs kept in ${join(workDir, 'workers')}`);
  }
  const metrics = requestMetrics(await readWorkerEmf(join(workDir, 'workers')), id);
  await rm(workDir, { recursive: true, force: true });
  printSummary(out, finished, metrics);
}

interface FinishedDemo {
  event: CompletionEvent;
  outputs: DownloadedOutputs;
  dir: string;
  timings: Record<string, number>;
}

interface DemoRun {
  id: string;
  outRoot: string;
  timeoutMs: number;
  out: Output;
  crashes: WorkerExit[];
  backgroundErrors: string[];
}

async function runDemo(stack: LocalStack, run: DemoRun): Promise<FinishedDemo> {
  const { out } = run;
  const eventsQueue = stack.aws.subscribeQueue('heritage-demo-events');
  const images = await demoImages();
  const submission = prepareSubmission({
    id: run.id,
    start: images.start,
    end: images.end,
    fields: DEMO_MANIFEST,
  });
  const dir = join(run.outRoot, run.id);
  const progress = createProgress({
    interactive: !out.json && process.stdout.isTTY === true,
    write: out.line,
  });
  const timings: Record<string, number> = {};
  const started = Date.now();
  try {
    const upload = progress.stage('upload', submission.objects.length, 'objects');
    let uploaded = 0;
    await uploadSubmission(stack.objects, submission, (sent) => {
      if (sent > 0) uploaded += 1;
      upload.update(uploaded);
    });
    upload.done();
    timings.upload = Date.now() - started;

    const queue = progress.stage('queue', 1, 'request');
    const inference = progress.stage('inference', 100, '%');
    const waitStarted = Date.now();
    let runningSince: number | undefined;
    const event = await waitForCompletionEvent(stack.clients.sqs, eventsQueue, run.id, {
      timeoutMs: run.timeoutMs,
      onTick: async () => {
        const crash = run.crashes[0];
        if (crash !== undefined) throw new WorkerCrashError(crash, await tail(crash.logFile));
        const status = (await stack.statuses.read(run.id))?.status;
        if (status === undefined) {
          // Locally dispatch claims a request within a second or two; a minute means it is failing.
          if (Date.now() - waitStarted > DISPATCH_CLAIM_LIMIT_MS)
            throw new DispatchStalledError(run.backgroundErrors);
          return queue.update(0, 'waiting for dispatch');
        }
        if (status.state === 'queued') return queue.update(0, 'queued');
        queue.done();
        runningSince ??= Date.now();
        inference.update(Math.round(status.progress?.percent ?? 0), status.progress?.phase ?? status.state);
      },
    }).catch((error: unknown) => {
      const problems = run.backgroundErrors.slice(0, 3).join('\n  ');
      if (error instanceof RequestFailedError && problems !== '') {
        throw new RequestFailedError(`${error.message}\n  local stack errors:\n  ${problems}`, error.info, {
          result: error.result,
        });
      }
      throw error;
    });
    queue.done();
    timings.queue = (runningSince ?? Date.now()) - waitStarted;
    timings.inference = Date.now() - (runningSince ?? waitStarted);
    if (event.status !== 'succeeded') {
      inference.done(event.status);
      throw new RequestFailedError(
        `demo request ${event.status}${event.error === null ? ' (no reason given)' : ''}`,
        event.error ?? undefined,
        { result: event },
      );
    }
    inference.done('succeeded');

    const downloadStarted = Date.now();
    let download: Stage | undefined;
    const outputs = await downloadOutputs(stack.objects, run.id, dir, (files, total) => {
      download ??= progress.stage('download', total, 'files');
      download.update(files);
    });
    download?.done(formatBytes(outputs.bytes));
    timings.download = Date.now() - downloadStarted;
    timings.total = Date.now() - started;
    progress.stop();
    await writeFile(join(dir, 'start.png'), images.start);
    await writeFile(join(dir, 'end.png'), images.end);
    return { event, outputs, dir, timings };
  } finally {
    progress.stop();
  }
}

/** The worker's metrics in a line: what the dashboard would plot for this request. */
function metricsLine(metrics: RequestMetric[]): string {
  const value = (name: string) =>
    metrics.find((metric) => metric.name === name && Object.keys(metric.dimensions).length === 1)?.value;
  const seconds = (name: string) => formatSeconds(value(name) ?? Number.NaN);
  return (
    `  metrics  GPU-held ${(value('GpuSeconds') ?? Number.NaN).toFixed(1)} s, queue wait ${seconds('QueueWaitMs')}, ` +
    `inference ${seconds('InferenceMs')}, upload ${seconds('UploadMs')}, frames ${value('Frames')} ` +
    `(the worker's EMF, ${metrics.length} values; --json lists them)`
  );
}

function printSummary(out: Output, finished: FinishedDemo, metrics: RequestMetric[]): void {
  const { event, outputs, dir, timings } = finished;
  const { frames } = outputs.result;
  const pipeline = event.timings_ms;
  const lines = [
    '',
    `heritage demo: request ${event.request_id} succeeded (engine: ${outputs.result.engine})`,
    `  frames   ${frames.count} PNG frames, ${frames.width}x${frames.height}, ${frames.fps} fps  ${outputs.framesDir}/`,
    `  video    ${outputs.videoFile ?? '(none)'}`,
    `  result   ${outputs.resultFile}`,
    `  inputs   ${join(dir, 'start.png')}, ${join(dir, 'end.png')}`,
    `  timings  upload ${formatSeconds(timings.upload ?? 0)}, queue ${formatSeconds(timings.queue ?? 0)}, ` +
      `inference ${formatSeconds(timings.inference ?? 0)}, download ${formatSeconds(timings.download ?? 0)}, ` +
      `total ${formatSeconds(timings.total ?? 0)}`,
    ...(pipeline === null
      ? []
      : [
          `  worker   provision ${formatSeconds(pipeline.provision)}, inference ${formatSeconds(pipeline.inference)}, ` +
            `upload ${formatSeconds(pipeline.upload)} (from the completion event)`,
        ]),
    metricsLine(metrics),
  ];
  if (outputs.result.engine === 'preview') lines.push('', `  NOTE: ${PREVIEW_NOTICE}`);
  out.result(
    {
      request_id: event.request_id,
      status: event.status,
      ...describeOutputs(outputs),
      timings_ms: timings,
      pipeline_timings_ms: pipeline,
      gpu_seconds: event.gpu_seconds,
      worker_metrics: metrics,
      notice: outputs.result.engine === 'preview' ? PREVIEW_NOTICE : null,
    },
    lines,
  );
}
