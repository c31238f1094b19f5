/**
 * Runs a ranged download's parts on several worker threads (part-thread.ts), each with a model source
 * and connections of its own, all writing into the same preallocated file at their parts' offsets.
 * One event loop receiving every byte through the S3 client tops out well below a large instance's
 * network (docs/benchmarks.md, "Model provisioning"); threads spread that work over cores.
 */
import { Worker } from 'node:worker_threads';
import { type ClonedError, InternalError, reviveError } from '../../../contracts/errors.js';
import type { ModelSourceDescriptor } from '../../../contracts/model-source.js';

/** What a download thread is started with (structured-cloned). */
export interface PartThreadData {
  descriptor: ModelSourceDescriptor;
  key: string;
  size: number;
  path: string;
  partSize: number;
  parts: number;
  /** This thread's connections. */
  connections: number;
  attempts?: number;
  /** One Int32: the next part to claim, shared by every thread of the download. */
  claims: SharedArrayBuffer;
}

export type ThreadMessage =
  | { kind: 'bytes'; bytes: number }
  | { kind: 'part'; index: number }
  | { kind: 'failed'; error: ClonedError };

export type ToThreadMessage = { kind: 'abort' };

export interface ThreadedParts {
  /** One descriptor per thread; their number is the number of threads. */
  descriptors: ModelSourceDescriptor[];
  key: string;
  size: number;
  path: string;
  partSize: number;
  parts: number;
  /** Connections over all threads, spread evenly. */
  concurrency: number;
  attempts?: number;
  signal: AbortSignal;
  onBytes?: (bytes: number) => void;
  /** Part `index` is written. */
  onPart: (index: number) => void;
}

/**
 * Fetches every part on threads. Resolves once all are written; on the first failure it stops the
 * other threads and rejects with that failure, and either way only once every thread has exited, so
 * no write is still in flight.
 */
export async function fetchPartsOnThreads(options: ThreadedParts): Promise<void> {
  const threads = options.descriptors.length;
  const claims = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const entry = partThreadEntry();
  let firstFailure: { error: unknown } | undefined;
  let partsDone = 0;
  const workers = options.descriptors.map(
    (descriptor, thread) =>
      new Worker(entry.url, {
        ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
        workerData: {
          descriptor,
          key: options.key,
          size: options.size,
          path: options.path,
          partSize: options.partSize,
          parts: options.parts,
          connections:
            Math.floor(options.concurrency / threads) + (thread < options.concurrency % threads ? 1 : 0),
          ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
          claims,
        } satisfies PartThreadData,
      }),
  );
  const stopAll = () => {
    for (const worker of workers) worker.postMessage({ kind: 'abort' } satisfies ToThreadMessage);
  };
  const fail = (error: unknown) => {
    if (firstFailure === undefined) firstFailure = { error };
    stopAll();
  };
  const onAbort = () => fail(options.signal.reason);
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener('abort', onAbort);
  const exits = workers.map(async (worker) => {
    worker.on('message', (message: ThreadMessage) => {
      if (message.kind === 'bytes') options.onBytes?.(message.bytes);
      else if (message.kind === 'part') {
        partsDone += 1;
        options.onPart(message.index);
      } else fail(reviveError(message.error));
    });
    worker.on('error', fail);
    // Not events.once: it would reject on the 'error' that comes before the exit.
    const code = await new Promise<number>((resolve) => worker.once('exit', resolve));
    if (code !== 0) fail(new InternalError(`download thread exited with code ${code}`));
  });
  try {
    await Promise.all(exits);
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
  if (firstFailure !== undefined) throw firstFailure.error;
  if (partsDone !== options.parts) {
    throw new InternalError(`download threads wrote ${partsDone} of ${options.parts} parts`);
  }
}

/**
 * Where the thread's code is: the TypeScript source beside this file when running from sources (tsx,
 * vitest), loaded through tsx; `part-thread.mjs` beside the bundle when this code is bundled, where
 * `import.meta.url` is the bundle's own.
 */
function partThreadEntry(): { url: URL; execArgv?: string[] } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./part-thread.mjs', import.meta.url) };
  const hasTsx = process.execArgv.some((arg) => arg.includes('tsx'));
  return {
    url: new URL('./part-thread.ts', import.meta.url),
    ...(hasTsx ? {} : { execArgv: [...process.execArgv, '--import', 'tsx'] }),
  };
}
