/**
 * ObjectStore over S3. Conditional writes map S3's 412/409 answers to PreconditionFailed. A missing key
 * reads as undefined, also where S3 answers 403 for it (see `absent`).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  type ObjectHead,
  type ObjectStore,
  PreconditionFailed,
  type PutOptions,
  type StoredObject,
} from '../../contracts/ports.js';

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)
  );
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403;
}

function isConditionLost(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'PreconditionFailed' ||
      error.name === 'ConditionalRequestConflict' ||
      error.$metadata.httpStatusCode === 412)
  );
}

function totalSizeOf(contentRange: string | undefined, contentLength: number | undefined): number {
  const total = contentRange?.split('/')[1];
  return total !== undefined && total !== '*' ? Number(total) : (contentLength ?? 0);
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async head(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: out.ContentLength ?? 0,
        etag: out.ETag ?? '',
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      };
    } catch (error) {
      if (isNotFound(error) || (await this.absent(key, error))) return undefined;
      throw error;
    }
  }

  async get(
    key: string,
    range?: { start: number; end: number },
    options: { ifMatch?: string; maxBytes?: number; signal?: AbortSignal } = {},
  ): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
          ...(options.ifMatch === undefined ? {} : { IfMatch: options.ifMatch }),
        }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      if (options.maxBytes !== undefined && (out.ContentLength ?? 0) > options.maxBytes) {
        out.Body?.transformToWebStream()
          .cancel()
          .catch(() => undefined);
        throw new RangeError(
          `${key} is ${out.ContentLength} bytes, over the ${options.maxBytes} bytes allowed`,
        );
      }
      const body = out.Body === undefined ? new Uint8Array() : await out.Body.transformToByteArray();
      return {
        body,
        size: totalSizeOf(out.ContentRange, out.ContentLength),
        etag: out.ETag ?? '',
        ...(out.ContentType === undefined ? {} : { contentType: out.ContentType }),
      };
    } catch (error) {
      if (options.ifMatch !== undefined && isConditionLost(error)) throw new PreconditionFailed(key);
      if (isNotFound(error) || (await this.absent(key, error))) return undefined;
      throw error;
    }
  }

  /**
   * Whether a 403 on a read only means the key is not there. S3 answers 404 for a missing key to callers
   * that may list it and 403 to the rest; a worker may list only under its request's prefixes (an
   * `s3:prefix` condition), and whether S3 counts that is not documented. So a 403 is settled by listing
   * the key itself: listed, or listing refused too, keeps the denial; allowed and not listed is absent.
   */
  private async absent(key: string, error: unknown): Promise<boolean> {
    if (!isAccessDenied(error)) return false;
    try {
      const out = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }),
      );
      return out.Contents?.[0]?.Key !== key;
    } catch {
      return false;
    }
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
          ...(options.ifNoneMatch === undefined ? {} : { IfNoneMatch: options.ifNoneMatch }),
          ...(options.ifMatch === undefined ? {} : { IfMatch: options.ifMatch }),
        }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      return { etag: out.ETag ?? '' };
    } catch (error) {
      if (isConditionLost(error) || (options.ifMatch !== undefined && isNotFound(error))) {
        throw new PreconditionFailed(key);
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async *list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    for await (const page of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix },
    )) {
      for (const item of page.Contents ?? []) {
        if (item.Key !== undefined) yield { key: item.Key, size: item.Size ?? 0 };
      }
    }
  }
}
