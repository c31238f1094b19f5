/**
 * Mirrors one model into the model bucket: download from its source URL into a local file while
 * hashing it, check the sha256 (or learn it), then upload with multipart, recording the sha256 in the
 * object's metadata. Nothing is uploaded that failed its check. A model already in the bucket with the
 * recorded sha256 the manifest expects is skipped without a download.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { HeadObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SHA256_METADATA_KEY } from '../../adapters/aws/s3-model-source.js';
import { DownloadFailedError, ModelChecksumError } from '../../contracts/errors.js';
import { modelKey } from '../../contracts/model-source.js';

export interface MirroredModel {
  name: string;
  folder: string;
  url: string;
  sha256: string | null;
  bytes: number | null;
}

export interface MirrorOptions {
  s3: S3Client;
  bucket: string;
  prefix: string;
  workDir: string;
  token?: string;
  /** Multipart part size (S3 allows 5 MiB to 5 GiB). */
  partSize: number;
  onStart?: (model: MirroredModel, bytes: number | undefined) => void;
  onBytes?: (bytes: number) => void;
}

export type MirrorOutcome = { kind: 'skipped' | 'uploaded'; sha256: string; bytes: number };

export async function mirrorModel(model: MirroredModel, options: MirrorOptions): Promise<MirrorOutcome> {
  const key = modelKey(options.prefix, model);
  const stored = await headModel(options.s3, options.bucket, key);
  if (
    stored?.sha256 !== undefined &&
    (model.sha256 === null || model.sha256 === stored.sha256) &&
    (model.bytes === null || model.bytes === stored.bytes)
  ) {
    return { kind: 'skipped', sha256: stored.sha256, bytes: stored.bytes };
  }
  const file = join(options.workDir, `${model.folder.replaceAll('/', '_')}__${model.name}`);
  try {
    const { sha256, bytes } = await download(model, file, options);
    if (model.sha256 !== null && sha256 !== model.sha256) {
      throw new ModelChecksumError(`${model.name} from its source does not match the manifest's sha256`, {
        details: { model: model.name, expected_sha256: model.sha256, actual_sha256: sha256 },
      });
    }
    if (model.bytes !== null && bytes !== model.bytes) {
      throw new ModelChecksumError(`${model.name} has ${bytes} bytes, the manifest says ${model.bytes}`, {
        details: { model: model.name, expected_bytes: model.bytes, actual_bytes: bytes },
      });
    }
    await new Upload({
      client: options.s3,
      params: {
        Bucket: options.bucket,
        Key: key,
        Body: createReadStream(file, { highWaterMark: 1024 * 1024 }),
        Metadata: { [SHA256_METADATA_KEY]: sha256 },
      },
      partSize: options.partSize,
      queueSize: 4,
      leavePartsOnError: false,
    }).done();
    return { kind: 'uploaded', sha256, bytes };
  } finally {
    await rm(file, { force: true });
  }
}

async function headModel(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256: string | undefined; bytes: number } | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { sha256: out.Metadata?.[SHA256_METADATA_KEY], bytes: out.ContentLength ?? 0 };
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
    throw error;
  }
}

async function download(
  model: MirroredModel,
  file: string,
  options: MirrorOptions,
): Promise<{ sha256: string; bytes: number }> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(model.url, { headers, redirect: 'follow' });
  if (!response.ok || response.body === null) {
    // The response body is not shown: a server may echo the request, and with it the token.
    await response.body?.cancel();
    throw new DownloadFailedError(`${model.name}: ${model.url} answered HTTP ${response.status}`, {
      details: { model: model.name, url: model.url, status: response.status },
    });
  }
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  options.onStart?.(model, Number.isFinite(length) ? length : (model.bytes ?? undefined));
  const hash = createHash('sha256');
  let bytes = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      options.onBytes?.(chunk.byteLength);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), hashing, createWriteStream(file));
  return { sha256: hash.digest('hex'), bytes };
}
