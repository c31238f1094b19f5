/**
 * sha256 of a file that is still being written, computed on a worker thread: the caller says which byte
 * ranges are complete, in order, and the thread reads them back (from the page cache) and hashes them.
 * Hashing runs at about 1-2 GB/s per core; on the main thread it would compete with the event loop
 * that moves the download's bytes, on its own thread it overlaps with them.
 */
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated in the worker, so that it runs the same from source, tests and bundles.
const HASHER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const fd = openSync(workerData.path, 'r');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
parentPort.on('message', (message) => {
  if (message.done) {
    closeSync(fd);
    parentPort.postMessage({ sha256: hash.digest('hex') });
    parentPort.close();
    return;
  }
  for (let position = message.start; position < message.end; ) {
    const bytesRead = readSync(fd, buffer, 0, Math.min(buffer.length, message.end - position), position);
    if (bytesRead === 0) throw new Error('file ended at ' + position + ' of ' + message.end);
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
});
`;

export interface FileHasher {
  /** Hashes bytes [start, end) next; ranges must be given in order and without gaps. */
  add(start: number, end: number): void;
  /** Resolves with the sha256 of everything added. */
  digest(): Promise<string>;
  /** Stops the thread without a result (on failure). */
  abort(): Promise<void>;
}

export function startFileHasher(path: string): FileHasher {
  const worker = new Worker(HASHER_SOURCE, { eval: true, workerData: { path } });
  const result = new Promise<string>((resolve, reject) => {
    worker.once('message', (message: { sha256: string }) => resolve(message.sha256));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`hashing thread exited with code ${code}`)));
  });
  result.catch(() => {});
  let next = 0;
  return {
    add(start, end) {
      if (start !== next) throw new Error(`hash ranges out of order: ${start} after ${next}`);
      next = end;
      worker.postMessage({ start, end });
    },
    digest() {
      worker.postMessage({ done: true });
      return result;
    },
    async abort() {
      await worker.terminate();
    },
  };
}
