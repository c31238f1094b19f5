/** ModelSource over the S3 model mirror: HeadObject for size and recorded sha256, ranged GetObject for bytes. */
import { GetObjectCommand, HeadObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { ModelObject, ModelSource } from '../../contracts/model-source.js';

/** Object metadata key (x-amz-meta-sha256) under which `heritage models sync` records a file's sha256. */
export const SHA256_METADATA_KEY = 'sha256';

export class S3ModelSource implements ModelSource {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

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
