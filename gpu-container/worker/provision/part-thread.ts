/**
 * Entry point of a download thread (started by part-threads.ts): it opens a model source of its own
 * from the descriptor it is given, opens the `.partial` file, and fetches parts into it on its share of
 * the connections, claiming each next part from a counter shared by all threads. It reports progress
 * in batches, each finished part, and its first failure (as plain data) to the main thread.
 *
 * This file is the thread's composition root: the only place in the provisioner that names an adapter.
 * Bundles emit it as `part-thread.mjs` beside themselves (gpu-container/worker/build.ts, bench/bundle.ts).
 */
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { S3ModelSource } from '../../../adapters/aws/s3-model-source.js';
import { cloneError } from '../../../contracts/errors.js';
import { fetchPart } from './fetch-part.js';
import type { PartThreadData, ThreadMessage, ToThreadMessage } from './part-threads.js';

/** Progress is posted once this much is received (or at a part's end), not per network chunk. */
const PROGRESS_BATCH_BYTES = 4 * 1024 * 1024;

const port = parentPort;
if (port === null) throw new Error('part-thread.ts runs as a worker thread only');
const data = workerData as PartThreadData;
const post = (message: ThreadMessage) => port.postMessage(message);

const stop = new AbortController();
port.on('message', (message: ToThreadMessage) => {
  if (message.kind === 'abort') stop.abort(new Error('download aborted by the main thread'));
});

let unreported = 0;
const report = () => {
  if (unreported !== 0) post({ kind: 'bytes', bytes: unreported });
  unreported = 0;
};

const next = new Int32Array(data.claims);
const source = S3ModelSource.open(data.descriptor);
const file = await open(data.path, 'r+');
const job = {
  source,
  key: data.key,
  size: data.size,
  partSize: data.partSize,
  ...(data.attempts === undefined ? {} : { attempts: data.attempts }),
  onBytes: (bytes: number) => {
    unreported += bytes;
    if (Math.abs(unreported) >= PROGRESS_BATCH_BYTES) report();
  },
};
try {
  const lanes = Array.from({ length: data.connections }, async () => {
    for (let index = Atomics.add(next, 0, 1); index < data.parts; index = Atomics.add(next, 0, 1)) {
      await fetchPart(job, file, index, stop.signal);
      report();
      post({ kind: 'part', index });
    }
  });
  // The first failure stops this thread's other connections; all of them settle (no write in flight)
  // before the file is closed.
  const outcomes = await Promise.allSettled(
    lanes.map((lane) =>
      lane.catch((error: unknown) => {
        stop.abort(error);
        throw error;
      }),
    ),
  );
  if (outcomes.some((outcome) => outcome.status === 'rejected')) {
    post({ kind: 'failed', error: cloneError(stop.signal.reason) });
  }
} finally {
  report();
  await file.close();
  source.close();
  port.close();
}
