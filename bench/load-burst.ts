/**
 * Load burst: N manifests land at once on the whole local stack (real dispatch, K real workers on the
 * preview engine with tiny frames), and the workers drain them. Reports throughput, queue latency
 * (enqueued → a worker took it, from each event's timings_ms.queued) and each worker's RSS against the
 * requests it had handled, with its least-squares slope: a leak shows as a slope, not as a snapshot.
 * LOAD_REQUESTS, LOAD_WORKERS choose the size.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompletionEventSchema } from '../contracts/event.js';
import { startLocalStack } from '../local/local-stack.js';
import { drainQueue } from '../local/testkit/queues.js';
import { putRequest } from '../local/testkit/requests.js';

const MANIFEST = { resolution: 480, frame_length: 17, interpolation: 1, video: false, seed: 3 };
const UPLOAD_CONCURRENCY = 16;

interface RssSample {
  handled: number;
  rssMb: number;
}

function rssMb(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

interface Done {
  at: number;
  queuedMs: number;
  status: string;
}

function figures(
  requests: number,
  workers: number,
  started: number,
  done: Map<string, Done>,
  samples: Map<string, RssSample[]>,
  handledBy: Map<string, number>,
): string[] {
  const lines: string[] = [];
  const elapsedS = (Math.max(...[...done.values()].map((d) => d.at)) - started) / 1000;
  const queued = [...done.values()].map((d) => d.queuedMs).sort((a, b) => a - b);
  const failed = [...done.values()].filter((d) => d.status !== 'succeeded').length;
  const n = done.size;
  lines.push(
    `load burst: ${requests} requests, ${workers} workers, preview engine, ${MANIFEST.frame_length} frames of 800x480`,
    `  ${n} of ${requests} ended, one event each (${failed} not succeeded), in ${elapsedS.toFixed(0)} s`,
    `  throughput: ${(n / elapsedS).toFixed(2)} requests/s (${((n / elapsedS) * 60).toFixed(0)}/min)`,
    `  queue latency (enqueued -> taken): p50 ${(percentile(queued, 50) / 1000).toFixed(1)} s, p99 ${(percentile(queued, 99) / 1000).toFixed(1)} s`,
  );
  for (const [workerId, points] of samples) {
    // The first requests warm the process up (JIT, SDK clients, pools); the trend is read after them.
    const steady = points.filter((p) => p.handled >= 10);
    if (steady.length < 2) continue;
    const first = steady[0] as RssSample;
    const last = steady[steady.length - 1] as RssSample;
    const perHundred = 100 * slope(steady.map((p) => ({ x: p.handled, y: p.rssMb })));
    lines.push(
      `  ${workerId}: ${handledBy.get(workerId) ?? 0} requests; RSS ${first.rssMb.toFixed(0)} MB at request ${first.handled}, ${last.rssMb.toFixed(0)} MB at ${last.handled}, max ${Math.max(...steady.map((p) => p.rssMb)).toFixed(0)} MB; trend ${perHundred >= 0 ? '+' : ''}${perHundred.toFixed(2)} MB per 100 requests`,
    );
  }
  return lines;
}

export async function runLoadBurst(requests: number, workers: number): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'heritage-load-'));
  const stack = await startLocalStack({
    maxWorkers: workers,
    idleTimeoutSeconds: 600,
    reconcileIntervalSeconds: 5,
    workDir,
    onError: (source, error) => console.error(`${source}: ${(error as Error).message}`),
  });
  const eventsQueue = stack.aws.subscribeQueue('load-completions');
  const done = new Map<string, Done>();
  const samples = new Map<string, RssSample[]>();
  /** Requests each worker finished, from status.json's worker_id as events arrive. */
  const handledBy = new Map<string, number>();
  const ids = Array.from({ length: requests }, (_, i) => `load-${String(i + 1).padStart(5, '0')}`);
  try {
    const started = Date.now();
    for (let i = 0; i < ids.length; i += UPLOAD_CONCURRENCY) {
      await Promise.all(
        ids.slice(i, i + UPLOAD_CONCURRENCY).map((id) => putRequest(stack.objects, id, MANIFEST)),
      );
    }
    const uploadedMs = Date.now() - started;
    console.error(`${requests} manifests uploaded in ${(uploadedMs / 1000).toFixed(1)} s`);
    let lastReport = 0;
    while (done.size < requests) {
      for (const body of await drainQueue(stack.clients.sqs, eventsQueue)) {
        const value = JSON.parse(body) as { Message: string };
        const event = CompletionEventSchema.parse(JSON.parse(value.Message));
        if (done.has(event.request_id)) throw new Error(`second event for ${event.request_id}`);
        done.set(event.request_id, {
          at: Date.now(),
          queuedMs: event.timings_ms?.queued ?? Number.NaN,
          status: event.status,
        });
        const workerId = (await stack.statuses.read(event.request_id))?.status.worker_id ?? 'unknown';
        handledBy.set(workerId, (handledBy.get(workerId) ?? 0) + 1);
      }
      for (const [workerId, pid] of stack.launcher.workerPids()) {
        const rss = rssMb(pid);
        if (rss !== undefined) {
          samples.set(workerId, [
            ...(samples.get(workerId) ?? []),
            { handled: handledBy.get(workerId) ?? 0, rssMb: rss },
          ]);
        }
      }
      // The figures so far, every minute: a run cut short still leaves what it measured.
      if (Date.now() - lastReport > 60_000 && done.size > 0) {
        lastReport = Date.now();
        for (const line of figures(requests, workers, started, done, samples, handledBy)) console.error(line);
      }
      await sleep(1_000);
    }
    for (const line of figures(requests, workers, started, done, samples, handledBy)) console.log(line);
  } finally {
    await stack.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runLoadBurst(Number(process.env.LOAD_REQUESTS ?? 1000), Number(process.env.LOAD_WORKERS ?? 2));
}
