/**
 * Stand-in for S3 bucket notifications, which the emulator does not have: it polls ListObjectsV2 under
 * `inbox/` and, for every manifest.json it has not seen with that ETag, sends the S3 event JSON that AWS
 * sends to the intake queue (prefix inbox/, suffix manifest.json). A re-upload gets a new ETag and so a
 * new event, as a second PUT does on AWS.
 */
import { randomBytes } from 'node:crypto';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { S3Event, S3EventRecord } from 'aws-lambda';

export interface ObjectCreated {
  bucket: string;
  key: string;
  size: number;
  /** As S3 returns it, with or without the surrounding quotes. */
  etag: string;
  region: string;
  eventTime: Date;
  sequencer: string;
}

/** S3 writes keys into events URL-encoded, with '+' for a space and '/' left as is. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replaceAll('%2F', '/').replaceAll('%20', '+');
}

/** The record S3 sends for a PutObject (event structure version 2.1). */
export function objectCreatedRecord(object: ObjectCreated): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: object.region,
    eventTime: object.eventTime.toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:HERITAGELOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-amz-id-2': randomBytes(48).toString('base64'),
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'heritage-inbox-manifest',
      bucket: {
        name: object.bucket,
        ownerIdentity: { principalId: 'HERITAGELOCAL' },
        arn: `arn:aws:s3:::${object.bucket}`,
      },
      object: {
        key: encodeEventKey(object.key),
        size: object.size,
        eTag: object.etag.replaceAll('"', ''),
        sequencer: object.sequencer,
      },
    },
  };
}

export interface S3NotificationBridgeOptions {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  region: string;
  /** The intake queue: where the cloud stack's bucket notification points. */
  queueUrl: string;
  prefix?: string;
  suffix?: string;
  pollIntervalMs?: number;
  onError?: (error: unknown) => void;
}

export class S3NotificationBridge {
  private readonly seen = new Map<string, string>();
  private sequence = 0n;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<number> | undefined;

  constructor(private readonly options: S3NotificationBridgeOptions) {}

  /** Lists the inbox once and sends one event per new or replaced manifest. Returns how many it sent. */
  async scan(): Promise<number> {
    const { s3, bucket, prefix = 'inbox/', suffix = 'manifest.json' } = this.options;
    let sent = 0;
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
      for (const item of page.Contents ?? []) {
        const key = item.Key;
        const etag = item.ETag ?? '';
        if (key === undefined || !key.endsWith(suffix) || this.seen.get(key) === etag) continue;
        await this.send({
          bucket,
          key,
          size: item.Size ?? 0,
          etag,
          region: this.options.region,
          eventTime: item.LastModified ?? new Date(),
          sequencer: this.nextSequencer(),
        });
        this.seen.set(key, etag);
        sent += 1;
      }
    }
    return sent;
  }

  start(): void {
    const interval = this.options.pollIntervalMs ?? 250;
    const tick = (): void => {
      this.scanning = this.scan()
        .catch((error: unknown) => {
          this.options.onError?.(error);
          return 0;
        })
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, interval);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.scanning;
  }

  private async send(object: ObjectCreated): Promise<void> {
    const event: S3Event = { Records: [objectCreatedRecord(object)] };
    await this.options.sqs.send(
      new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: JSON.stringify(event) }),
    );
  }

  /** S3 sequencers are hex strings that grow for later events on the same key. */
  private nextSequencer(): string {
    this.sequence += 1n;
    return (BigInt(Date.now()) * 1_000_000n + this.sequence).toString(16).toUpperCase().padStart(18, '0');
  }
}
