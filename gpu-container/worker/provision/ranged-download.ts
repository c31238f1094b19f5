/**
 * Downloads one object over many parallel ranged GETs into a preallocated `.partial` file, each part
 * written at its own offset as its bytes arrive, and computes the file's sha256 on the way.
 *
 * The connections run on the calling thread, or, when the plan has more than one thread and the source
 * can describe itself for other threads, spread over download threads (part-threads.ts), each with a
 * client of its own writing into the same file: one event loop receiving every byte through the S3
 * client is the bound of a single-threaded download (docs/benchmarks.md, "Model provisioning").
 *
 * Parts finish out of order, but sha256 must see the bytes in order. Two ways to do that:
 * - `pipelined` (default): a hashing thread reads back each part from the file as soon as every part
 *   before it is written, while later parts are still downloading. The read-back hits the page cache,
 *   and the hashing overlaps the network on another core, so only the last parts' hashing is left at
 *   the end.
 * - `after`: one sequential read of the whole file once the download is over. Simpler, but its cost
 *   (file size / hash speed) is added in full to the download time.
 * `npm run bench` measures both (docs/benchmarks.md, "Model provisioning").
 */
import { createHash, type Hash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { ModelSource, ModelSourceDescriptor } from '../../../contracts/model-source.js';
import { fetchPart } from './fetch-part.js';
import { startFileHasher } from './file-hasher.js';
import { fetchPartsOnThreads } from './part-threads.js';

const MiB = 1024 * 1024;
const HASH_BUFFER_BYTES = 8 * MiB;

export type HashingMode = 'pipelined' | 'after';

export interface PartPlanOverrides {
  partSize?: number;
  concurrency?: number;
  /** Download threads; 1 keeps every connection on the calling thread. */
  threads?: number;
}

export interface PartPlan {
  partSize: number;
  concurrency: number;
  parts: number;
  threads: number;
}

/**
 * Chooses part size, concurrency and threads from the object size and the machine's cores: up to 32
 * connections, about four parts per connection so that a slow connection does not hold up the end,
 * and parts of 16 to 64 MiB. Every request pays S3's first-byte latency (about 25 ms): at 90 MB/s a
 * part of 8 MiB spends a fifth of its time waiting for it, one of 16 MiB an eighth, and 16 MiB parts
 * measured 25 % faster than 8 MiB ones (docs/benchmarks.md, "Model provisioning"). The 14 GB experts
 * get 64 MiB parts.
 *
 * Threads: one event loop moves 0.7-0.9 GB/s through the S3 client, and one file is never verified
 * faster than one core's sha256 (1-2 GB/s), so more than 4 threads per file cannot help; a quarter of
 * the cores leaves the rest for the hashing thread, the main thread and the second file downloaded at
 * the same time. At most one thread per connection; one thread (2-7 cores) is the in-process path.
 */
export function planParts(
  size: number,
  overrides: PartPlanOverrides = {},
  cores = availableParallelism(),
): PartPlan {
  const maxConcurrency = overrides.concurrency ?? 32;
  const partSize =
    overrides.partSize ??
    Math.min(64 * MiB, Math.max(16 * MiB, Math.ceil(size / (maxConcurrency * 4) / MiB) * MiB));
  const parts = Math.max(1, Math.ceil(size / partSize));
  const concurrency = Math.max(1, Math.min(maxConcurrency, parts));
  const threads = overrides.threads ?? Math.min(4, Math.floor(cores / 4));
  return { partSize, concurrency, parts, threads: Math.max(1, Math.min(threads, concurrency)) };
}

export interface RangedDownloadOptions extends PartPlanOverrides {
  source: ModelSource;
  key: string;
  size: number;
  /** The file the bytes go to; created or truncated, then preallocated to `size`. */
  path: string;
  hashing?: HashingMode;
  /** Attempts per part before the download fails (network errors, short reads). */
  attempts?: number;
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void;
}

export interface RangedDownloadResult {
  sha256: string;
  bytes: number;
  plan: PartPlan;
  /** Time from the first request to the last byte written. */
  transferMs: number;
  /** Hashing time left after the last byte was written. */
  hashTailMs: number;
}

/** Downloads `key` into `path` (fsynced) and returns the sha256 of what was written. */
export async function downloadRanged(options: RangedDownloadOptions): Promise<RangedDownloadResult> {
  const { size, hashing = 'pipelined' } = options;
  const planned = planParts(size, options);
  const descriptors = threadDescriptors(options.source, planned.threads);
  const plan = { ...planned, threads: descriptors?.length ?? 1 };
  const file = await open(options.path, 'w+');
  const failed = new AbortController();
  const signal =
    options.signal === undefined ? failed.signal : AbortSignal.any([failed.signal, options.signal]);
  const written = new Uint8Array(plan.parts);
  const partWritten = new EventEmitter();
  const started = performance.now();
  let transferMs = 0;
  try {
    await file.truncate(size);
    const partDone = (index: number) => {
      written[index] = 1;
      partWritten.emit('part', index);
    };
    const fail = (error: unknown): never => {
      failed.abort(error);
      throw error;
    };
    const part = {
      source: options.source,
      key: options.key,
      size,
      partSize: plan.partSize,
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.onBytes === undefined ? {} : { onBytes: options.onBytes }),
    };
    let next = 0;
    const connection = async () => {
      while (next < plan.parts) {
        const index = next;
        next += 1;
        await fetchPart(part, file, index, signal);
        partDone(index);
      }
    };
    const workers =
      descriptors === undefined
        ? Array.from({ length: plan.concurrency }, () => connection().catch(fail))
        : [
            fetchPartsOnThreads({
              descriptors,
              key: options.key,
              size,
              path: options.path,
              partSize: plan.partSize,
              parts: plan.parts,
              concurrency: plan.concurrency,
              ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
              signal,
              ...(options.onBytes === undefined ? {} : { onBytes: options.onBytes }),
              onPart: partDone,
            }).catch(fail),
          ];
    const transfer = Promise.all(workers).then(() => {
      transferMs = performance.now() - started;
    });
    // Its failure is reported through `workers` below; this only keeps it from being unhandled.
    transfer.catch(() => {});
    const hashed =
      hashing === 'pipelined'
        ? hashPartsInOrder(options.path, plan, size, written, partWritten, signal).catch(fail)
        : transfer.then(async () => {
            const hash = createHash('sha256');
            await hashRange(file, hash, 0, size);
            return hash.digest('hex');
          });
    // Settle everything before the file is closed, so that no write is still in flight; then report
    // the first failure, which is the cause (the others are the abort it triggered).
    const outcomes = await Promise.allSettled([...workers, hashed]);
    const firstFailure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (firstFailure !== undefined) throw failed.signal.reason ?? firstFailure.reason;
    const sha256 = await hashed;
    await file.sync();
    return {
      sha256,
      bytes: size,
      plan,
      transferMs,
      hashTailMs: performance.now() - started - transferMs,
    };
  } finally {
    await file.close();
  }
}

/** One descriptor per thread, or undefined when the download stays on the calling thread. */
function threadDescriptors(source: ModelSource, threads: number): ModelSourceDescriptor[] | undefined {
  if (threads <= 1) return undefined;
  const descriptors = Array.from({ length: threads }, (_, thread) => source.describeForThread?.(thread));
  return descriptors.every((descriptor) => descriptor !== undefined) ? descriptors : undefined;
}

/** Hands each part to the hashing thread as soon as it and every part before it are written. */
async function hashPartsInOrder(
  path: string,
  plan: PartPlan,
  size: number,
  written: Uint8Array,
  partWritten: EventEmitter,
  signal: AbortSignal,
): Promise<string> {
  const hasher = startFileHasher(path);
  try {
    for (let index = 0; index < plan.parts; index += 1) {
      while (written[index] !== 1) await once(partWritten, 'part', { signal });
      const start = index * plan.partSize;
      hasher.add(start, Math.min(size, start + plan.partSize));
    }
    return await hasher.digest();
  } catch (error) {
    await hasher.abort();
    // events.once rejects with its own AbortError; the cause is the signal's reason.
    throw signal.aborted ? signal.reason : error;
  }
}

/** Feeds bytes [start, end) of the file to the hash, in order. */
async function hashRange(file: FileHandle, hash: Hash, start: number, end: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(HASH_BUFFER_BYTES, Math.max(1, end - start)));
  for (let position = start; position < end; ) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, end - position), position);
    if (bytesRead === 0) throw new Error(`file ended at ${position} of ${end}`);
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}
