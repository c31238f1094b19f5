import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeritageError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { ManifestSchema } from '../../contracts/manifest.js';
import { pinImage, type WorkMessage } from '../../contracts/work-message.js';
import { stageInputs } from '../../gpu-container/worker/job/stage-inputs.js';
import { makeImage, withOrientation } from '../../local/testkit/images.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

let aws: Emulator;
let dir: string;
let ids = 0;
const never = new AbortController().signal;

beforeAll(async () => {
  aws = await startEmulator();
  dir = await mkdtemp(join(tmpdir(), 'heritage-stage-'));
});
afterAll(async () => {
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Stores the two images and returns the work message that pins them, as dispatch sends it. */
async function pinned(start: Buffer, end: Buffer): Promise<WorkMessage> {
  const id = `stage-${++ids}`;
  const keys = requestKeys(id);
  const put = async (name: string, bytes: Buffer) =>
    pinImage(keys.inboxObject(name), (await aws.objects.put(keys.inboxObject(name), bytes)).etag, bytes);
  const [startPin, endPin] = [await put('start.jpg', start), await put('end.jpg', end)];
  return {
    version: 1,
    request_id: id,
    bucket: aws.bucket,
    manifest_etag: '"m"',
    manifest: { ...ManifestSchema.parse({ seed: 3 }), seed: 3 },
    inputs: { start: startPin, end: endPin },
    geometry: { width: 640, height: 640, sourceFrames: 65, frames: 129, fps: 32, interpolation: 2 },
    enqueued_at: new Date().toISOString(),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof HeritageError ? error.code : `not a HeritageError: ${(error as Error).message}`;
  }
}

describe('staging the inputs of a request', () => {
  it('stages exactly the images dispatch checked', async () => {
    // Prepare
    const start = await makeImage(320, 200, 'jpeg');
    const work = await pinned(start, await makeImage(320, 200, 'jpeg', 40));

    // Act
    const staged = await stageInputs(aws.objects, work, join(dir, work.request_id), never);

    // Assess
    expect(await readFile(staged.startImage)).toEqual(start);
  });

  it('refuses an image replaced after the request was accepted, with IMAGE_CHANGED', async () => {
    // Prepare: the client uploads a different start image under the same key after dispatch checked it.
    const work = await pinned(await makeImage(320, 200, 'jpeg'), await makeImage(320, 200, 'jpeg', 40));
    await aws.objects.put(work.inputs.start.key, await makeImage(4000, 4000, 'jpeg'));

    // Act
    const code = await codeOf(stageInputs(aws.objects, work, join(dir, work.request_id), never));

    // Assess
    expect(code).toBe('IMAGE_CHANGED');
  });

  it('turns an EXIF-rotated image upright, so every engine renders it as it is displayed', async () => {
    // Prepare: stored 320x200 with orientation 6 (displayed 200x320).
    const rotated = await withOrientation(await makeImage(320, 200, 'png'), 'jpeg', 6);
    const work = await pinned(rotated, rotated);

    // Act
    const staged = await stageInputs(aws.objects, work, join(dir, work.request_id), never);

    // Assess
    expect(work.inputs.start).toMatchObject({ width: 200, height: 320, orientation: 6 });
    const meta = await sharp(await readFile(staged.startImage)).metadata();
    expect([meta.format, meta.width, meta.height, meta.orientation]).toEqual(['png', 200, 320, undefined]);
  });
});
