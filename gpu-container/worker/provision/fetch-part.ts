/**
 * One part of a ranged download: a ranged read written at its offset of the file as its bytes arrive,
 * retried with backoff. The same code runs on the calling thread and on download threads.
 */
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DownloadFailedError } from '../../../contracts/errors.js';
import type { ModelSource } from '../../../contracts/model-source.js';

const MiB = 1024 * 1024;
const WRITE_BATCH_BYTES = 1 * MiB;
const WRITES_IN_FLIGHT = 4;

export interface PartJob {
  source: ModelSource;
  key: string;
  /** The object's size. */
  size: number;
  partSize: number;
  /** Attempts per part before the download fails (network errors, short reads). */
  attempts?: number;
  /** Bytes received; a failed attempt takes back what it had reported. */
  onBytes?: (bytes: number) => void;
}

/** Fetches part `index` of `job` into `file`; resolves once every byte of it is written. */
export async function fetchPart(
  job: PartJob,
  file: FileHandle,
  index: number,
  signal: AbortSignal,
): Promise<void> {
  const start = index * job.partSize;
  const end = Math.min(job.size, start + job.partSize) - 1;
  const attempts = job.attempts ?? 3;
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
      const body = await job.source.getRange(job.key, start, end, signal);
      for await (const chunk of body) {
        if (received + chunk.byteLength > length) throw new Error(`part ${index} is longer than asked`);
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        received += chunk.byteLength;
        job.onBytes?.(chunk.byteLength);
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
      job.onBytes?.(-received);
      if (signal.aborted) throw signal.reason ?? error;
      if (attempt >= attempts) {
        throw new DownloadFailedError(`could not download ${job.key} bytes=${start}-${end}`, {
          cause: error,
          details: { key: job.key, start, end, attempts },
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
