/**
 * Downloads one object over many parallel ranged GETs into a preallocated `.partial` file, each part
 * written at its own offset as its bytes arrive, and computes the file's sha256 on the way.
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
import { setTimeout as sleep } from 'node:timers/promises';
import { DownloadFailedError } from '../../../contracts/errors.js';
import type { ModelSource } from '../../../contracts/model-source.js';
import { startFileHasher } from './file-hasher.js';

const MiB = 1024 * 1024;
const HASH_BUFFER_BYTES = 8 * MiB;
const WRITE_BATCH_BYTES = 1 * MiB;
const WRITES_IN_FLIGHT = 4;

export type HashingMode = 'pipelined' | 'after';

export interface PartPlanOverrides {
  partSize?: number;
  concurrency?: number;
}

export interface PartPlan {
  partSize: number;
  concurrency: number;
  parts: number;
}

/**
 * Chooses part size and concurrency from the object size: up to 32 connections, about four parts per
 * connection so that a slow connection does not hold up the end, and parts of 16 to 64 MiB. Every
 * request pays S3's first-byte latency (about 25 ms): at 90 MB/s a part of 8 MiB spends a fifth of
 * its time waiting for it, one of 16 MiB an eighth, and 16 MiB parts measured 25 % faster than 8 MiB
 * ones (docs/benchmarks.md, "Model provisioning"). The 14 GB experts get 64 MiB parts.
 */
export function planParts(size: number, overrides: PartPlanOverrides = {}): PartPlan {
  const maxConcurrency = overrides.concurrency ?? 32;
  const partSize =
    overrides.partSize ??
    Math.min(64 * MiB, Math.max(16 * MiB, Math.ceil(size / (maxConcurrency * 4) / MiB) * MiB));
  const parts = Math.max(1, Math.ceil(size / partSize));
  return { partSize, concurrency: Math.max(1, Math.min(maxConcurrency, parts)), parts };
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
  const plan = planParts(size, options);
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
    let next = 0;
    const worker = async () => {
      while (next < plan.parts) {
        const index = next;
        next += 1;
        await fetchPart(options, file, plan, index, signal);
        written[index] = 1;
        partWritten.emit('part', index);
      }
    };
    const fail = (error: unknown): never => {
      failed.abort(error);
      throw error;
    };
    const workers = Array.from({ length: plan.concurrency }, () => worker().catch(fail));
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

async function fetchPart(
  options: RangedDownloadOptions,
  file: FileHandle,
  plan: PartPlan,
  index: number,
  signal: AbortSignal,
): Promise<void> {
  const start = index * plan.partSize;
  const end = Math.min(options.size, start + plan.partSize) - 1;
  const attempts = options.attempts ?? 3;
  const length = end - start + 1;
  for (let attempt = 1; ; attempt += 1) {
    let received = 0;
    let batchAt = start;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const writes: Promise<void>[] = [];
    // Network chunks are small (16-64 KiB): they are written a MiB at a time with one writev (no copy),
    // and the writes overlap the reading, so the socket keeps flowing while the thread pool writes.
    const flush = () => {
      const write = writeFully(file, pending, batchAt, pendingBytes);
      write.catch(() => {});
      writes.push(write);
      batchAt += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    try {
      const body = await options.source.getRange(options.key, start, end, signal);
      for await (const chunk of body) {
        if (received + chunk.byteLength > length) throw new Error(`part ${index} is longer than asked`);
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        received += chunk.byteLength;
        options.onBytes?.(chunk.byteLength);
        if (pendingBytes >= WRITE_BATCH_BYTES) {
          flush();
          if (writes.length >= WRITES_IN_FLIGHT) await writes.shift();
        }
      }
      if (pendingBytes > 0) flush();
      await Promise.all(writes);
      if (received !== length) throw new Error(`part ${index} ended after ${received} of ${length} bytes`);
      return;
    } catch (error) {
      await Promise.allSettled(writes);
      options.onBytes?.(-received);
      if (signal.aborted) throw signal.reason ?? error;
      if (attempt >= attempts) {
        throw new DownloadFailedError(`could not download ${options.key} bytes=${start}-${end}`, {
          cause: error,
          details: { key: options.key, start, end, attempts },
        });
      }
      await sleep(100 * 2 ** attempt, undefined, { signal });
    }
  }
}

/** Writes `bytes` bytes of `chunks` at `position`, going on after a short write. */
async function writeFully(
  file: FileHandle,
  chunks: Uint8Array[],
  position: number,
  bytes: number,
): Promise<void> {
  let buffers = chunks;
  for (let done = 0; done < bytes; ) {
    const { bytesWritten } = await file.writev(buffers, position + done);
    done += bytesWritten;
    if (done < bytes) buffers = [Buffer.concat(buffers).subarray(bytesWritten)];
  }
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
    throw error;
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
