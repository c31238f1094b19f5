/**
 * Provisioning: makes every model file of the manifest present and verified in the instance's NVMe
 * cache before ComfyUI starts. A file at its final name is always complete and verified, because it only
 * gets there by an atomic rename after its sha256 matched; so a complete cache costs one stat per file.
 * Workers sharing the cache take a lock per file: one downloads, the others move on to other files
 * and come back to wait for it.
 */
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelChecksumError, ModelUnavailableError } from '../../../contracts/errors.js';
import type { ModelEntry } from '../../../contracts/model-manifest.js';
import { type ModelSource, modelKey } from '../../../contracts/model-source.js';
import { type CacheLockOptions, tryLock } from './cache-lock.js';
import { downloadRanged, type HashingMode, type PartPlanOverrides } from './ranged-download.js';
import { syncDirectory } from './sync-directory.js';

/** The fields of a model manifest entry the provisioner needs. */
export type ModelFile = Pick<ModelEntry, 'name' | 'folder' | 'sha256' | 'bytes'>;

export interface ProvisionOptions {
  source: ModelSource;
  models: readonly ModelFile[];
  /** MODEL_CACHE_DIR: files land at <cacheDir>/<folder>/<name>. */
  cacheDir: string;
  /** MODEL_PREFIX: objects are read from <prefix>/<folder>/<name>. */
  prefix: string;
  download?: PartPlanOverrides & { hashing?: HashingMode };
  /**
   * Files downloaded at once. One file's sha256 runs on one core (about 1.5-2 GB/s), which can be
   * slower than a p5's network, so two files at a time keep two hashing cores busy.
   */
  fileConcurrency?: number;
  lock?: CacheLockOptions & { pollMs?: number };
  signal?: AbortSignal;
  onFile?: (timing: FileTiming) => void;
  /** Bytes received for a file, as they arrive (progress). */
  onBytes?: (path: string, bytes: number) => void;
}

export type FileOutcome = 'cached' | 'downloaded' | 'waited';

export interface FileTiming {
  path: string;
  bytes: number;
  outcome: FileOutcome;
  ms: number;
  /** Downloads it took (2 when the first copy failed its checksum); 0 when nothing was downloaded. */
  downloads: number;
  /** Download throughput, for downloaded files. */
  megabytesPerSecond?: number;
  /** Download threads the last download ran on (1: the calling thread), for downloaded files. */
  threads?: number;
}

export interface ProvisionReport {
  files: FileTiming[];
  totalMs: number;
  downloadedBytes: number;
}

export async function provisionModels(options: ProvisionOptions): Promise<ProvisionReport> {
  const started = performance.now();
  const pollMs = options.lock?.pollMs ?? 250;
  const waitingSince = new Map<ModelFile, number>();
  const files = new Map<ModelFile, FileTiming>();
  let pending = [...options.models];
  while (pending.length > 0) {
    const stillBusy: ModelFile[] = [];
    await forEachLimited(pending, options.fileConcurrency ?? 2, async (model) => {
      const since = waitingSince.get(model) ?? performance.now();
      const timing = await provisionFile(options, model, since, waitingSince.has(model));
      if (timing === undefined) {
        waitingSince.set(model, since);
        stillBusy.push(model);
        return;
      }
      files.set(model, timing);
      options.onFile?.(timing);
    });
    // Everything left is being downloaded by another worker: wait for it rather than spin.
    if (stillBusy.length > 0 && stillBusy.length === pending.length) {
      await sleep(pollMs, undefined, options.signal === undefined ? {} : { signal: options.signal });
    }
    pending = stillBusy;
  }
  const timings = options.models.flatMap((model) => files.get(model) ?? []);
  const downloadedBytes = timings.reduce(
    (sum, file) => sum + (file.outcome === 'downloaded' ? file.bytes : 0),
    0,
  );
  return { files: timings, totalMs: performance.now() - started, downloadedBytes };
}

/** Runs `task` over `items`, at most `limit` at a time; the first failure is thrown once all settle. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  });
  const outcomes = await Promise.allSettled(lanes);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

/** Returns undefined while another worker holds the file's lock. */
async function provisionFile(
  options: ProvisionOptions,
  model: ModelFile,
  since: number,
  waited: boolean,
): Promise<FileTiming | undefined> {
  const path = join(options.cacheDir, model.folder, model.name);
  const key = modelKey(options.prefix, model);
  const done = (outcome: FileOutcome, bytes: number, download?: VerifiedDownload): FileTiming => {
    const ms = performance.now() - since;
    return {
      path,
      bytes,
      outcome,
      ms,
      downloads: download?.downloads ?? 0,
      ...(download === undefined
        ? {}
        : { megabytesPerSecond: bytes / 1e6 / (ms / 1000), threads: download.threads }),
    };
  };
  const present = await sizeOnDisk(path);
  if (present !== undefined && present === model.bytes) return done(waited ? 'waited' : 'cached', present);

  await mkdir(dirname(path), { recursive: true });
  const lock = await tryLock(`${path}.lock`, options.lock);
  if (lock === undefined) return undefined;
  try {
    const object = await options.source.head(key);
    if (object === undefined) {
      throw new ModelUnavailableError(`model ${key} is not in the model bucket`, { details: { key } });
    }
    const expected = model.sha256 ?? object.sha256;
    if (expected === undefined) {
      throw new ModelChecksumError(`no sha256 is known for ${key}: run \`heritage models sync\``, {
        details: { key },
      });
    }
    if (model.bytes !== null && object.size !== model.bytes) {
      throw new ModelChecksumError(`${key} has ${object.size} bytes, the manifest says ${model.bytes}`, {
        details: { key, expected_bytes: model.bytes, actual_bytes: object.size },
      });
    }
    // Someone finished it while we were deciding (the size only becomes known from the object when
    // the manifest leaves it out).
    if ((await sizeOnDisk(path)) === object.size) return done(waited ? 'waited' : 'cached', object.size);
    await unlink(path).catch(ignoreMissing);
    const download = await downloadVerified(options, key, path, object.size, expected);
    return done('downloaded', object.size, download);
  } finally {
    await lock.release();
  }
}

interface VerifiedDownload {
  downloads: number;
  threads: number;
}

/** Downloads into `<path>.partial`, and renames it into place only once its sha256 matches. */
async function downloadVerified(
  options: ProvisionOptions,
  key: string,
  path: string,
  size: number,
  expected: string,
): Promise<VerifiedDownload> {
  const partial = `${path}.partial`;
  let actual = '';
  for (let download = 1; download <= 2; download += 1) {
    const result = await downloadRanged({
      source: options.source,
      key,
      size,
      path: partial,
      ...options.download,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onBytes === undefined
        ? {}
        : { onBytes: (bytes: number) => options.onBytes?.(path, bytes) }),
    }).catch(async (error: unknown) => {
      await unlink(partial).catch(ignoreMissing);
      throw error;
    });
    actual = result.sha256;
    if (actual === expected) {
      await rename(partial, path);
      await syncDirectory(dirname(path));
      return { downloads: download, threads: result.plan.threads };
    }
    await unlink(partial).catch(ignoreMissing);
  }
  throw new ModelChecksumError(`${key} failed its sha256 check twice`, {
    details: { key, expected_sha256: expected, actual_sha256: actual },
  });
}

async function sizeOnDisk(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    ignoreMissing(error);
    return undefined;
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
