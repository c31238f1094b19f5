import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../support/emulator.js';

const MiB = 1024 * 1024;
const TOKEN = 'hf_test_token_that_must_never_be_printed';

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface SourceServer {
  origin: string;
  requests: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

/** Our own model source on loopback HTTPS: serves files, and echoes the request headers back on /echo. */
async function startSource(dir: string, files: Record<string, Uint8Array>): Promise<SourceServer> {
  // biome-ignore format: flag and value side by side
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const requests: SourceServer['requests'] = [];
  const server: Server = createServer(
    { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
    (req, res) => {
      const path = req.url ?? '/';
      requests.push({ path, authorization: req.headers.authorization });
      if (path === '/echo') {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end(`forbidden for ${req.headers.authorization ?? 'nobody'}`);
        return;
      }
      const body = files[path];
      if (req.headers.authorization !== `Bearer ${TOKEN}` || body === undefined) {
        res.writeHead(body === undefined ? 404 : 401).end();
        return;
      }
      res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('heritage models sync', () => {
  let emulator: Emulator;
  let dir: string;
  let source: SourceServer;
  const unet = randomBytes(7 * MiB + 3);
  const vae = randomBytes(100 * 1024);

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), 'heritage-models-sync-'));
    source = await startSource(dir, { '/unet.safetensors': unet, '/vae.safetensors': vae });
  });
  afterAll(async () => {
    await source.close();
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeManifest(name: string, models: unknown[]): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify({ version: 1, models }, null, 2));
    return path;
  }

  async function sync(
    manifest: string,
    prefix: string,
    env: Record<string, string> = {},
  ): Promise<{ code: number | null; output: string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'cli/main.ts',
        'models',
        'sync',
        '--manifest',
        manifest,
        '--prefix',
        prefix,
        '--part-size-mib',
        '5',
      ],
      {
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: emulator.endpoint,
          MODEL_BUCKET: emulator.modelBucket,
          HF_TOKEN: TOKEN,
          NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, output };
  }

  const metadataOf = async (key: string) =>
    (await emulator.s3.send(new HeadObjectCommand({ Bucket: emulator.modelBucket, Key: key }))).Metadata;

  it('mirrors each model with its sha256 in the object metadata and records the checksums the manifest lacked', async () => {
    // Prepare
    const manifest = await writeManifest('first.json', [
      {
        name: 'unet.safetensors',
        folder: 'diffusion_models',
        url: `${source.origin}/unet.safetensors`,
        sha256: sha256Of(unet),
        bytes: null,
      },
      {
        name: 'vae.safetensors',
        folder: 'vae',
        url: `${source.origin}/vae.safetensors`,
        sha256: null,
        bytes: null,
      },
    ]);

    // Act
    const result = await sync(manifest, 'mirror');

    // Assess
    expect(result.code).toBe(0);
    expect(await metadataOf('mirror/diffusion_models/unet.safetensors')).toEqual({ sha256: sha256Of(unet) });
    expect(await metadataOf('mirror/vae/vae.safetensors')).toEqual({ sha256: sha256Of(vae) });
    const stored = await emulator.s3.send(
      new GetObjectCommand({ Bucket: emulator.modelBucket, Key: 'mirror/diffusion_models/unet.safetensors' }),
    );
    expect(sha256Of((await stored.Body?.transformToByteArray()) ?? new Uint8Array())).toBe(sha256Of(unet));
    const recorded = JSON.parse(await readFile(manifest, 'utf8')) as {
      models: Array<{ sha256: string; bytes: number }>;
    };
    expect(recorded.models.map((model) => [model.sha256, model.bytes])).toEqual([
      [sha256Of(unet), unet.byteLength],
      [sha256Of(vae), vae.byteLength],
    ]);
    expect(source.requests.filter((request) => request.authorization === `Bearer ${TOKEN}`)).toHaveLength(2);
    expect(result.output).not.toContain(TOKEN);
  });

  it('skips a model already mirrored with the sha256 the manifest expects, without downloading it', async () => {
    // Prepare
    const manifest = await writeManifest('again.json', [
      {
        name: 'vae.safetensors',
        folder: 'vae',
        url: `${source.origin}/vae.safetensors`,
        sha256: sha256Of(vae),
        bytes: vae.byteLength,
      },
    ]);
    expect((await sync(manifest, 'skip')).code).toBe(0);
    const requestsBefore = source.requests.length;

    // Act
    const result = await sync(manifest, 'skip');

    // Assess
    expect(result.code).toBe(0);
    expect(result.output).toContain('skipped  vae/vae.safetensors');
    expect(source.requests.length).toBe(requestsBefore);
  });

  it('uploads nothing when the downloaded bytes do not match the manifest sha256', async () => {
    // Prepare
    const manifest = await writeManifest('wrong.json', [
      {
        name: 'vae.safetensors',
        folder: 'vae',
        url: `${source.origin}/vae.safetensors`,
        sha256: 'ab'.repeat(32),
        bytes: null,
      },
    ]);

    // Act
    const result = await sync(manifest, 'wrong');

    // Assess
    expect(result.code).toBe(4);
    expect(result.output).toContain('does not match the manifest');
    await expect(metadataOf('wrong/vae/vae.safetensors')).rejects.toMatchObject({ name: 'NotFound' });
  });

  it("mirrors into the local stack's model bucket when no bucket is named", async () => {
    // Prepare
    const manifest = await writeManifest('nobucket.json', [
      {
        name: 'vae.safetensors',
        folder: 'vae',
        url: `${source.origin}/vae.safetensors`,
        sha256: null,
        bytes: null,
      },
    ]);

    // Act
    const result = await sync(manifest, 'local', { MODEL_BUCKET: '' });

    // Assess
    expect(result.code).toBe(0);
    expect(result.output).toContain(`to s3://${emulator.modelBucket}/local (from the local stack)`);
    expect(await metadataOf('local/vae/vae.safetensors')).toEqual({ sha256: sha256Of(vae) });
  });

  it('never prints the token, even when the source echoes it back in an error', async () => {
    // Prepare
    const manifest = await writeManifest('echo.json', [
      { name: 'vae.safetensors', folder: 'vae', url: `${source.origin}/echo`, sha256: null, bytes: null },
    ]);

    // Act
    const result = await sync(manifest, 'echo');

    // Assess
    expect(result.code).toBe(4);
    expect(result.output).toContain('HTTP 403');
    expect(source.requests.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(result.output).not.toContain(TOKEN);
  });
});
