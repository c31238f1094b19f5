/**
 * Port: where the provisioner reads model files from (the S3 model mirror in the cloud, the emulator
 * locally). Ranged reads are the unit, so one file can be fetched over many connections at once.
 */
import { modelPath } from './model-manifest.js';

export interface ModelObject {
  size: number;
  /** sha256 recorded by `heritage models sync` (object metadata), when there is one. */
  sha256?: string;
}

/**
 * Where a source reads from, as plain data: a worker thread cannot receive a live client, so it gets
 * this (it survives structured clone) and opens a source of its own with the same adapter code.
 */
export interface ModelSourceDescriptor {
  bucket: string;
  /** Absent: the default chain's region. */
  region?: string;
  /** The local emulator; absent: the service's own endpoint. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Static credentials, for the local emulator only; absent: each thread resolves the default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface ModelSource {
  /** Undefined when the key does not exist. */
  head(key: string): Promise<ModelObject | undefined>;
  /** Streams bytes [start, end] inclusive. */
  getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
  /**
   * How download thread `thread` opens a source of its own that reads the same objects. A source that
   * cannot say (a test double, a wrapper) leaves it out, and its downloads stay on the calling thread.
   */
  describeForThread?(thread: number): ModelSourceDescriptor | undefined;
}

/** Object key of a model in the model bucket: <MODEL_PREFIX>/<folder>/<name>. */
export function modelKey(prefix: string, model: { folder: string; name: string }): string {
  const path = modelPath(model);
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? path : `${trimmed}/${path}`;
}
