/** Factories for the worker tests: requests seeded into the local stack, engines, store decorators. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { SharedRequestAccess } from '../../adapters/local/shared-request-access.js';
import { requestKeys, requestPrefixes } from '../../contracts/keys.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import { ManifestSchema } from '../../contracts/manifest.js';
import type {
  AttemptReport,
  ObjectHead,
  ObjectStore,
  PutOptions,
  ReceivedMessage,
  RequestAccess,
  RequestMetrics,
  StatusStore,
  StoredObject,
} from '../../contracts/ports.js';
import { pinImage, type WorkMessage } from '../../contracts/work-message.js';
import type { EngineJob, EngineOutput, FrameEngine } from '../../gpu-container/worker/engines/engine.js';
import { resolveFfmpegPath } from '../../gpu-container/worker/ffmpeg.js';
import type { RunJobDeps } from '../../gpu-container/worker/job/job-deps.js';
import { silentLog } from '../../gpu-container/worker/log.js';
import type { Emulator } from '../support/emulator.js';

/** A PNG with a bright square on a dark background; `x` moves the square. */
export async function squareImage(width: number, height: number, x: number): Promise<Buffer> {
  const side = Math.floor(height / 3);
  const square = await sharp({
    create: { width: side, height: side, channels: 3, background: { r: 240, g: 200, b: 40 } },
  })
    .png()
    .toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 20, g: 30, b: 60 } } })
    .composite([{ input: square, left: x, top: Math.floor((height - side) / 2) }])
    .png()
    .toBuffer();
}

export interface SeedOptions {
  video?: boolean;
  frameLength?: number;
  interpolation?: 1 | 2 | 4;
  width?: number;
  height?: number;
  clientReference?: string;
}

/** Puts the images and a queued status into the local stack and sends the work message, as dispatch does. */
export async function seedRequest(
  aws: Emulator,
  requestId: string,
  options: SeedOptions = {},
): Promise<WorkMessage> {
  const width = options.width ?? 96;
  const height = options.height ?? 64;
  const frameLength = options.frameLength ?? 17;
  const interpolation = options.interpolation ?? 2;
  const keys = requestKeys(requestId);
  const startBytes = await squareImage(width, height, 4);
  const endBytes = await squareImage(width, height, width - Math.floor(height / 3) - 4);
  const put = async (name: string, bytes: Buffer) =>
    pinImage(
      keys.inboxObject(name),
      (await aws.objects.put(keys.inboxObject(name), bytes, { contentType: 'image/png' })).etag,
      bytes,
    );
  const start = await put('start.png', startBytes);
  const end = await put('end.png', endBytes);
  const manifest = ManifestSchema.parse({
    resolution: 480,
    frame_length: frameLength,
    interpolation,
    seed: 7,
    video: options.video ?? false,
    ...(options.clientReference === undefined ? {} : { client_reference: options.clientReference }),
  });
  const now = new Date().toISOString();
  await aws.statuses.create({
    version: 1,
    request_id: requestId,
    state: 'queued',
    created_at: now,
    updated_at: now,
    seed: 7,
  });
  const work: WorkMessage = {
    version: 1,
    request_id: requestId,
    bucket: aws.bucket,
    manifest_etag: '"seeded"',
    manifest: { ...manifest, seed: 7 },
    inputs: { start, end },
    geometry: {
      width,
      height,
      sourceFrames: frameLength,
      frames: (frameLength - 1) * interpolation + 1,
      fps: 16 * interpolation,
      interpolation,
    },
    enqueued_at: now,
  };
  await aws.workQueue.send(JSON.stringify(work));
  return work;
}

export async function receiveOne(aws: Emulator): Promise<ReceivedMessage> {
  const message = await aws.workQueue.receive({ waitSeconds: 2, visibilitySeconds: 60 });
  if (message === undefined) throw new Error('no work message arrived');
  return message;
}

export async function workDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'heritage-worker-test-'));
}

export function jobDeps(
  aws: Emulator,
  engine: FrameEngine,
  dir: string,
  overrides: Partial<RunJobDeps> = {},
): RunJobDeps {
  return {
    bucket: aws.bucket,
    leaseMs: 60_000,
    requests: new SharedRequestAccess(aws.objects),
    queue: aws.workQueue,
    events: aws.events,
    engine,
    log: silentLog,
    metrics: new RecordedMetrics(),
    ffmpegPath: resolveFfmpegPath(),
    workerId: 'test-worker',
    workDir: dir,
    requestTimeoutMs: 60_000,
    visibilitySeconds: 60,
    heartbeatIntervalMs: 10_000,
    ...overrides,
  };
}

/** The worker's metrics port kept in memory: the reports a run made, in order. */
export class RecordedMetrics implements RequestMetrics {
  readonly reports: AttemptReport[] = [];

  record(report: AttemptReport): void {
    this.reports.push(report);
  }
}

/** Hands every request the given stores: a test's decorated stores in place of the shared one. */
export function fixedRequests(
  store: ObjectStore,
  statuses: StatusStore = new ObjectStatusStore(store),
): RequestAccess {
  return { forRequest: () => ({ store, statuses }) };
}

/** An engine that fails the way a real one would. */
export function failingEngine(error: Error, calls: { count: number } = { count: 0 }): FrameEngine {
  return {
    name: 'comfyui',
    async render() {
      calls.count += 1;
      throw error;
    },
    async cleanup() {},
  };
}

/** An engine that hands back frames it already has, at once: what is left is the worker's own cost. */
export function readyFramesEngine(frames: readonly Buffer[]): FrameEngine {
  return {
    name: 'preview',
    async render(job: EngineJob): Promise<EngineOutput> {
      const paths = frames.map((_, i) => join(job.workDir, `ready_${String(i).padStart(5, '0')}.png`));
      await Promise.all(paths.map((path, i) => writeFile(path, frames[i] ?? Buffer.alloc(0))));
      return { frames: paths, workflow: null };
    },
    async cleanup() {},
  };
}

/** Wraps an ObjectStore: records every successful put in order, and can fail chosen keys every time. */
export class RecordingObjectStore implements ObjectStore {
  readonly puts: string[] = [];

  constructor(
    private readonly inner: ObjectStore,
    private readonly failPut: (key: string) => boolean = () => false,
  ) {}

  head(key: string): Promise<ObjectHead | undefined> {
    return this.inner.head(key);
  }
  get(
    key: string,
    range?: { start: number; end: number },
    options?: { ifMatch?: string; maxBytes?: number },
  ): Promise<StoredObject | undefined> {
    return this.inner.get(key, range, options);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    if (this.failPut(key)) {
      throw Object.assign(new Error(`injected 503 for ${key}`), { $metadata: { httpStatusCode: 503 } });
    }
    const out = await this.inner.put(key, body, options);
    this.puts.push(key);
    return out;
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    return this.inner.list(prefix);
  }
}

/**
 * What IAM enforces in the cloud, for one request: every call outside its inbox/, requests/ and
 * outputs/ prefixes is refused (and recorded), as the request-access session would refuse it.
 */
export class ConfinedObjectStore implements ObjectStore {
  readonly refused: string[] = [];
  private readonly prefixes: string[];

  constructor(
    private readonly inner: ObjectStore,
    requestId: string,
  ) {
    this.prefixes = Object.values(requestPrefixes(requestId));
  }

  private check(key: string): void {
    if (this.prefixes.some((prefix) => key.startsWith(prefix))) return;
    this.refused.push(key);
    throw Object.assign(new Error(`AccessDenied: ${key}`), { $metadata: { httpStatusCode: 403 } });
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    this.check(key);
    return this.inner.head(key);
  }
  async get(key: string, range?: { start: number; end: number }): Promise<StoredObject | undefined> {
    this.check(key);
    return this.inner.get(key, range);
  }
  async put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<{ etag: string }> {
    this.check(key);
    return this.inner.put(key, body, options);
  }
  async delete(key: string): Promise<void> {
    this.check(key);
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<{ key: string; size: number }> {
    this.check(prefix);
    return this.inner.list(prefix);
  }
}

/** Confined stores per request, remembering which requests asked and every refused key. */
export function confinedRequests(inner: ObjectStore): RequestAccess & {
  asked: string[];
  stores: ConfinedObjectStore[];
} {
  const asked: string[] = [];
  const stores: ConfinedObjectStore[] = [];
  return {
    asked,
    stores,
    forRequest(requestId) {
      asked.push(requestId);
      const store = new ConfinedObjectStore(inner, requestId);
      stores.push(store);
      return { store, statuses: new ObjectStatusStore(store) };
    },
  };
}
