/** ModelSource over the S3 model mirror: HeadObject for size and recorded sha256, ranged GetObject for bytes. */

import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { ModelObject, ModelSource, ModelSourceDescriptor } from '../../contracts/model-source.js';
import { CALL_TIMEOUTS } from './call-timeouts.js';

/** Object metadata key (x-amz-meta-sha256) under which `heritage models sync` records a file's sha256. */
export const SHA256_METADATA_KEY = 'sha256';

export class S3ModelSource implements ModelSource {
  /**
   * `descriptor`, when given, must say where `s3` reads from: download threads open their own source
   * from it. Without one, downloads from this source stay on the calling thread.
   */
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly descriptor?: ModelSourceDescriptor,
  ) {}

  /** A source with a client of its own, built from plain data: the same code in every thread. */
  static open(descriptor: ModelSourceDescriptor): S3ModelSource {
    const s3 = new S3Client({
      ...CALL_TIMEOUTS,
      ...(descriptor.region === undefined ? {} : { region: descriptor.region }),
      ...(descriptor.endpoint === undefined ? {} : { endpoint: descriptor.endpoint }),
      ...(descriptor.forcePathStyle === undefined ? {} : { forcePathStyle: descriptor.forcePathStyle }),
      ...(descriptor.credentials === undefined ? {} : { credentials: descriptor.credentials }),
    });
    return new S3ModelSource(s3, descriptor.bucket, descriptor);
  }

  describeForThread(): ModelSourceDescriptor | undefined {
    return this.descriptor;
  }

  /** Closes the client's connections (a source made by `open` owns its client). */
  close(): void {
    this.s3.destroy();
  }

  async head(key: string): Promise<ModelObject | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const sha256 = out.Metadata?.[SHA256_METADATA_KEY];
      return { size: out.ContentLength ?? 0, ...(sha256 === undefined ? {} : { sha256 }) };
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  async getRange(
    key: string,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    if (out.Body === undefined) throw new Error(`no body for ${key} bytes=${start}-${end}`);
    return out.Body as AsyncIterable<Uint8Array>;
  }
}
