/**
 * The worker's managed start on a GPU machine, as the image runs it: the worker bundle from the image
 * is launched by the local pipeline's dispatch when a request arrives (Batch's place), provisions the
 * model set from a local S3 endpoint with checksums, starts and supervises ComfyUI, validates the
 * workflow, warms up, and serves the queue. Two cold starts, then warm requests back to back:
 *
 *   1. cold, empty model cache (a fresh instance): MODEL_CACHE_DIR emptied first;
 *   2. cold, warm model cache (a reused instance), optionally with the page cache dropped,
 *      followed by `--warm N` more reference requests queued behind it.
 *
 * Each cold start is split from the worker's own log: provision, ComfyUI start, warm-up (the first
 * load of every model to the GPU), first request. Run it with the image's environment (COMFYUI_DIR,
 * MODEL_CACHE_DIR, WORKFLOWS_DIR, MODEL_MANIFEST, COMFYUI_PYTHON, FFMPEG_PATH, COMFYUI_ATTENTION):
 *
 *   node dist/bench/managed-start.mjs --worker /opt/heritage/worker/main.mjs --models DIR [--warm 5]
 *        [--drop-caches] [--out FILE]
 *
 * DIR holds the model files as <folder>/<name>, which the worker fetches as s3://heritage-models/<folder>/<name>.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type CompletionEvent, CompletionEventSchema } from '../contracts/event.js';
import { demoImages } from '../local/demo/demo-images.js';
import { DEMO_MANIFEST } from '../local/demo/demo-manifest.js';
import { LOCAL_NAMES } from '../local/local-aws.js';
import { type LocalStack, startLocalStack } from '../local/local-stack.js';
import { prepareSubmission } from '../local/submission/prepare-submission.js';
import { uploadSubmission } from '../local/submission/upload-submission.js';
import { type ModelFront, startModelFront } from './model-front.js';

const REQUEST_TIMEOUT_MS = 20 * 60_000;

interface LogLine {
  timestamp: string;
  message: string;
  [key: string]: unknown;
}

/** The worker's JSON log lines (Powertools, ComfyUI's output among them), in order; anything else is skipped. */
async function workerLog(file: string): Promise<LogLine[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const parsed = JSON.parse(line) as LogLine;
      return typeof parsed.message === 'string' && typeof parsed.timestamp === 'string' ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

/** Peak GPU memory from nvidia-smi every 200 ms, when there is an nvidia-smi. */
function pollGpuMemory(): { peakMiB: () => number | null; stop: () => void } {
  let peak: number | null = null;
  const child = spawn(
    'nvidia-smi',
    ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-lms', '200'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  child.on('error', () => {});
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      const value = Number(line.trim());
      if (line.trim() !== '' && Number.isFinite(value)) peak = Math.max(peak ?? 0, value);
    }
  });
  return { peakMiB: () => peak, stop: () => child.kill() };
}

async function submit(stack: LocalStack, id: string, seed: number): Promise<void> {
  const images = await demoImages();
  const submission = prepareSubmission({
    id,
    start: images.start,
    end: images.end,
    fields: { ...DEMO_MANIFEST, seed, client_reference: 'managed-start' },
  });
  await uploadSubmission(stack.objects, submission);
}

type Done = CompletionEvent & { at: number };

/**
 * Completion events as they arrive, kept by request id: SQS does not keep order, so requests queued
 * together finish in any order, and an event read while waiting for another must not be lost.
 */
function completions(stack: LocalStack, queueUrl: string): (id: string) => Promise<Done> {
  const seen = new Map<string, Done>();
  return async (id) => {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    while (!seen.has(id)) {
      if (Date.now() > deadline) throw new Error(`no completion event for ${id}`);
      const out = await stack.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of out.Messages ?? []) {
        await stack.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        const envelope = JSON.parse(message.Body ?? '{}') as { Message?: string };
        const event = CompletionEventSchema.parse(JSON.parse(envelope.Message ?? message.Body ?? '{}'));
        seen.set(event.request_id, { ...event, at: Date.now() });
      }
    }
    const event = seen.get(id) as Done;
    if (event.status !== 'succeeded')
      throw new Error(`${id} ${event.status}: ${JSON.stringify(event.error)}`);
    return event;
  };
}

interface ColdStart {
  phase: string;
  worker_log: string;
  provision_s: number;
  downloaded_gb: number;
  comfyui_start_s: number;
  prefetch_s: number | null;
  warm_up_s: number;
  first_request_s: number;
  worker_start_to_first_done_s: number;
  manifest_to_first_done_s: number;
}

const at = (line: LogLine | undefined): number =>
  line === undefined ? Number.NaN : Date.parse(line.timestamp);
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** Splits a worker's log into the steps of its cold start. */
function coldStart(
  phase: string,
  logFile: string,
  lines: LogLine[],
  submittedAt: number,
  doneAt: number,
): ColdStart {
  const find = (message: string) => lines.find((line) => line.message === message);
  const starting = find('worker starting');
  const started = find('models provisioned and ComfyUI started');
  const warm = find('warm-up rendered');
  const prefetched = find('models prefetched into the page cache');
  const serving = find('worker started');
  const provisionMs = Number(started?.provision_ms ?? Number.NaN);
  const startMs = Number(started?.start_ms ?? Number.NaN);
  return {
    phase,
    worker_log: logFile,
    provision_s: seconds(provisionMs),
    downloaded_gb: Math.round(Number(started?.downloaded_bytes ?? 0) / 1e8) / 10,
    comfyui_start_s: seconds(startMs - provisionMs),
    prefetch_s: prefetched === undefined ? null : seconds(Number(prefetched.ms)),
    warm_up_s: seconds(Number(warm?.ms ?? Number.NaN)),
    first_request_s: seconds(doneAt - at(serving)),
    worker_start_to_first_done_s: seconds(doneAt - at(starting)),
    manifest_to_first_done_s: seconds(doneAt - submittedAt),
  };
}

async function newestWorkerLog(stack: LocalStack, before: Set<string>): Promise<string> {
  const dir = join(stack.workDir, 'workers');
  const logs = (await readdir(dir)).filter((name) => name.endsWith('.log') && !before.has(name));
  const log = logs.sort().at(-1);
  if (log === undefined) throw new Error(`no worker log appeared in ${dir}`);
  return join(dir, log);
}

async function workerLogs(stack: LocalStack): Promise<Set<string>> {
  return new Set(await readdir(join(stack.workDir, 'workers')).catch(() => []));
}

async function untilNoWorker(stack: LocalStack): Promise<void> {
  while ((await stack.launcher.liveWorkers()) > 0) await new Promise((r) => setTimeout(r, 500));
}

async function dropPageCache(): Promise<boolean> {
  return writeFile('/proc/sys/vm/drop_caches', '3\n').then(
    () => true,
    () => false,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      worker: { type: 'string' },
      models: { type: 'string' },
      warm: { type: 'string', default: '5' },
      'drop-caches': { type: 'boolean', default: false },
      'front-threads': { type: 'string', default: '4' },
      out: { type: 'string' },
    },
  });
  if (values.worker === undefined || values.models === undefined) {
    throw new Error(
      'usage: managed-start --worker PATH/main.mjs --models DIR [--warm N] [--drop-caches] [--out FILE]',
    );
  }
  const cacheDir = process.env.MODEL_CACHE_DIR ?? '/models';
  const warmRequests = Number(values.warm);
  const gpu = pollGpuMemory();
  let front: ModelFront | undefined;
  const stack = await startLocalStack({
    maxWorkers: 1,
    idleTimeoutSeconds: 10,
    requestTimeoutSeconds: 900,
    workerCommand: { file: process.execPath, args: ['--enable-source-maps', values.worker] },
    workerEnv: { MODEL_PREFIX: '', POWERTOOLS_LOG_LEVEL: 'INFO' },
    interpose: async (upstream) => {
      front = await startModelFront(
        { upstream, bucket: LOCAL_NAMES.modelBucket, dir: values.models ?? '' },
        Number(values['front-threads']),
      );
      return front.endpoint;
    },
  });
  const waitFor = completions(stack, stack.aws.subscribeQueue('managed-start-events'));
  const report: { cold: ColdStart[]; warm: Record<string, number>[]; page_cache_dropped: boolean | null } = {
    cold: [],
    warm: [],
    page_cache_dropped: null,
  };
  try {
    // 1. A fresh instance: nothing in the model cache.
    for (const entry of await readdir(cacheDir).catch(() => [])) {
      await rm(join(cacheDir, entry), { recursive: true, force: true });
    }
    let before = await workerLogs(stack);
    let submittedAt = Date.now();
    await submit(stack, 'cold-empty', 1001);
    const first = await waitFor('cold-empty');
    let log = await newestWorkerLog(stack, before);
    report.cold.push(coldStart('cold, empty model cache', log, await workerLog(log), submittedAt, first.at));
    console.log(JSON.stringify(report.cold.at(-1)));
    await untilNoWorker(stack);

    // 2. A reused instance: the cache is complete; the page cache as the flag says.
    if (values['drop-caches'] === true) report.page_cache_dropped = await dropPageCache();
    before = await workerLogs(stack);
    submittedAt = Date.now();
    await submit(stack, 'cold-warm', 1002);
    const warmIds = Array.from({ length: warmRequests }, (_, i) => `warm-${i + 1}`);
    for (const [i, id] of warmIds.entries()) await submit(stack, id, 2001 + i);
    const second = await waitFor('cold-warm');
    log = await newestWorkerLog(stack, before);
    report.cold.push(coldStart('cold, warm model cache', log, await workerLog(log), submittedAt, second.at));
    console.log(JSON.stringify(report.cold.at(-1)));
    // In the order they finished: each one's wall time is from the previous one's end.
    const finished = (await Promise.all(warmIds.map((id) => waitFor(id)))).sort((a, b) => a.at - b.at);
    let previous = second.at;
    for (const done of finished) {
      report.warm.push({ wall_s: seconds(done.at - previous), ...done.timings_ms });
      console.log(
        JSON.stringify({
          id: done.request_id,
          wall_s: seconds(done.at - previous),
          timings_ms: done.timings_ms,
        }),
      );
      previous = done.at;
    }
  } finally {
    gpu.stop();
    await stack.stop();
    await front?.stop();
  }
  const walls = report.warm.map((w) => w.wall_s ?? 0);
  const summary = {
    ...report,
    gpu_peak_mib: gpu.peakMiB(),
    warm_mean_s:
      walls.length === 0 ? null : seconds((walls.reduce((a, b) => a + b, 0) / walls.length) * 1000),
  };
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    '\nphase                      provision  comfyui  warm-up  first req  worker→done  manifest→done',
  );
  for (const c of report.cold) {
    console.log(
      `${c.phase.padEnd(26)} ${String(c.provision_s).padStart(8)} s ${String(c.comfyui_start_s).padStart(6)} s ` +
        `${String(c.warm_up_s).padStart(6)} s ${String(c.first_request_s).padStart(8)} s ` +
        `${String(c.worker_start_to_first_done_s).padStart(10)} s ${String(c.manifest_to_first_done_s).padStart(12)} s`,
    );
  }
  console.log(`warm requests back to back: ${walls.join(' s, ')} s (mean ${summary.warm_mean_s} s)`);
  console.log(
    `peak GPU memory: ${summary.gpu_peak_mib} MiB; page cache dropped: ${report.page_cache_dropped}`,
  );
}

await main();
