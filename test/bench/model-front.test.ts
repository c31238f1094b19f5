import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { type ModelFront, parseRange, startModelFront } from '../../bench/model-front.js';
import { provisionModels } from '../../gpu-container/worker/provision/provision-models.js';
import { localModelSource } from '../../local/aws-clients.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

describe('model front', () => {
  let emulator: Emulator;
  let front: ModelFront;
  let dir: string;
  let cacheDir: string;
  const body = randomBytes(3 * 1024 * 1024 + 11);

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), 'heritage-front-'));
    cacheDir = await mkdtemp(join(tmpdir(), 'heritage-front-cache-'));
    await mkdir(join(dir, 'vae'), { recursive: true });
    await writeFile(join(dir, 'vae', 'vae.safetensors'), body);
    front = await startModelFront({ upstream: emulator.endpoint, bucket: emulator.modelBucket, dir });
  });
  afterAll(async () => {
    await front.stop();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('reads byte ranges as S3 does', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBeUndefined();
    expect(parseRange('items=0-1', 100)).toBeUndefined();
  });

  it('feeds the provisioner a model from its directory over the S3 wire protocol, checksum and all', async () => {
    // Prepare
    const source = S3ModelSource.open(localModelSource(front.endpoint, emulator.modelBucket));
    const sha256 = createHash('sha256').update(body).digest('hex');

    // Act
    const report = await provisionModels({
      source,
      models: [{ name: 'vae.safetensors', folder: 'vae', sha256, bytes: body.length }],
      cacheDir,
      prefix: '',
      download: { partSize: 256 * 1024, concurrency: 4 },
    });
    source.close();

    // Assess
    expect(report.files.map((file) => file.outcome)).toEqual(['downloaded']);
    expect((await readFile(join(cacheDir, 'vae', 'vae.safetensors'))).equals(body)).toBe(true);
  });

  it('answers a key outside its directory as missing, and passes every other request to the emulator', async () => {
    // Act
    const missing = await fetch(`${front.endpoint}/${emulator.modelBucket}/vae/absent.safetensors`);
    const outside = await fetch(`${front.endpoint}/${emulator.modelBucket}/..%2F..%2Fetc%2Fpasswd`);
    await emulator.objects.put('inbox/x/manifest.json', Buffer.from('{}'), {
      contentType: 'application/json',
    });
    const passed = await fetch(`${front.endpoint}/${emulator.bucket}/inbox/x/manifest.json`);

    // Assess
    expect(missing.status).toBe(404);
    expect(outside.status).toBe(403);
    expect(passed.status).toBe(200);
    expect(await passed.text()).toBe('{}');
  });
});
