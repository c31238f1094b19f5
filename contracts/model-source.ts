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

export interface ModelSource {
  /** Undefined when the key does not exist. */
  head(key: string): Promise<ModelObject | undefined>;
  /** Streams bytes [start, end] inclusive. */
  getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

/** Object key of a model in the model bucket: <MODEL_PREFIX>/<folder>/<name>. */
export function modelKey(prefix: string, model: { folder: string; name: string }): string {
  const path = modelPath(model);
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? path : `${trimmed}/${path}`;
}
