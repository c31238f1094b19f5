/** Factories for provisioning tests: model objects in the emulator's model bucket and sources around them. */
import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ModelObject, ModelSource } from '../../contracts/model-source.js';
import type { ModelFile } from '../../gpu-container/worker/provision/provision-models.js';

export interface StoredModel {
  model: ModelFile;
  bytes: Uint8Array;
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Puts random bytes at <prefix>/<folder>/<name> and returns the manifest entry that describes them. */
export async function putModel(
  s3: S3Client,
  bucket: string,
  options: { prefix: string; folder: string; name: string; size: number; body?: Uint8Array },
): Promise<StoredModel> {
  const bytes = randomBytes(options.size);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${options.prefix}/${options.folder}/${options.name}`,
      Body: options.body ?? bytes,
    }),
  );
  return {
    model: { name: options.name, folder: options.folder, sha256: sha256Of(bytes), bytes: options.size },
    bytes,
  };
}

/** A source that counts the bytes it hands out, so tests can tell how often a file was downloaded. */
export function countingSource(inner: ModelSource): ModelSource & { bytesServed: () => number } {
  let served = 0;
  return {
    head: (key: string): Promise<ModelObject | undefined> => inner.head(key),
    async getRange(key, start, end, signal) {
      const body = await inner.getRange(key, start, end, signal);
      return (async function* count() {
        for await (const chunk of body) {
          served += chunk.byteLength;
          yield chunk;
        }
      })();
    },
    bytesServed: () => served,
  };
}

/** A source whose first ranged read starting at offset 0 comes back with one byte flipped. */
export function corruptOnceSource(inner: ModelSource): ModelSource {
  let corrupted = false;
  return {
    head: (key) => inner.head(key),
    async getRange(key, start, end, signal) {
      const body = await inner.getRange(key, start, end, signal);
      if (corrupted || start !== 0) return body;
      corrupted = true;
      return (async function* flip() {
        let first = true;
        for await (const chunk of body) {
          const copy = Uint8Array.from(chunk);
          if (first && copy.byteLength > 0) copy[0] = (copy[0] ?? 0) ^ 0xff;
          first = false;
          yield copy;
        }
      })();
    },
  };
}

/** A source whose ranged reads starting at `start` fail, `times` times (Infinity: always). */
export function failingSource(inner: ModelSource, start: number, times: number): ModelSource {
  let failures = 0;
  return {
    head: (key) => inner.head(key),
    async getRange(key, from, end, signal) {
      if (from === start && failures < times) {
        failures += 1;
        throw new Error(`connection reset (test) at ${from}`);
      }
      return inner.getRange(key, from, end, signal);
    },
  };
}
