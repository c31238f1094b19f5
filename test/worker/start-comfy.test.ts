import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ModelSource } from '../../adapters/aws/s3-model-source.js';
import { ComfyRuntimeConfigSchema, startComfy } from '../../gpu-container/worker/engines/comfy/managed.js';
import { freeLoopbackPort } from '../../gpu-container/worker/engines/comfy/supervisor.js';
import { putModel, sha256Of } from '../provision/model-fixtures.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

describe('startComfy', () => {
  let emulator: Emulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), 'heritage-start-comfy-'));
  });
  afterAll(async () => {
    await emulator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls the models onto the cache, then starts ComfyUI with the cache as its model paths', async () => {
    // Prepare: a "ComfyUI installation" whose main.py is the fake, run by node instead of python.
    const comfyDir = join(dir, 'ComfyUI');
    await mkdir(comfyDir);
    const fake = pathToFileURL(join(import.meta.dirname, 'fake-comfy.mjs')).href;
    await writeFile(join(comfyDir, 'main.py'), `import(${JSON.stringify(fake)});\n`);
    const vae = await putModel(emulator.s3, emulator.modelBucket, {
      prefix: 'models',
      folder: 'vae',
      name: 'wan_2.1_vae.safetensors',
      size: 300 * 1024,
    });
    const config = ComfyRuntimeConfigSchema.parse({
      MODEL_BUCKET: emulator.modelBucket,
      MODEL_PREFIX: 'models',
      MODEL_CACHE_DIR: join(dir, 'cache'),
      COMFYUI_DIR: comfyDir,
      COMFYUI_PYTHON: process.execPath,
      COMFYUI_PORT: String(await freeLoopbackPort()),
    });

    // Act
    const started = await startComfy({
      config,
      source: new S3ModelSource(emulator.s3, emulator.modelBucket),
      models: [vae.model],
      workDir: join(dir, 'comfy-work'),
    });

    // Assess
    try {
      expect(started.provision.files.map((file) => file.outcome)).toEqual(['downloaded']);
      expect(sha256Of(await readFile(join(dir, 'cache', 'vae', 'wan_2.1_vae.safetensors')))).toBe(
        vae.model.sha256,
      );
      expect((await fetch(`${started.supervisor.url}/system_stats`)).ok).toBe(true);
      expect(await readFile(join(dir, 'comfy-work', 'extra_model_paths.yaml'), 'utf8')).toContain(
        `base_path: ${JSON.stringify(join(dir, 'cache'))}`,
      );
      expect(config.WARMUP).toBe('tiny');
    } finally {
      await started.supervisor.stop();
    }
  });

  it('gives each worker on one host its own ComfyUI port when none is set (Batch jobs share the host network)', async () => {
    // Prepare: two workers of one instance, neither told a port.
    const comfyDir = join(dir, 'ComfyUI-shared-host');
    await mkdir(comfyDir);
    const fake = pathToFileURL(join(import.meta.dirname, 'fake-comfy.mjs')).href;
    await writeFile(join(comfyDir, 'main.py'), `import(${JSON.stringify(fake)});\n`);
    const config = ComfyRuntimeConfigSchema.parse({
      MODEL_BUCKET: emulator.modelBucket,
      MODEL_CACHE_DIR: join(dir, 'cache-shared-host'),
      COMFYUI_DIR: comfyDir,
      COMFYUI_PYTHON: process.execPath,
    });
    const start = (n: number) =>
      startComfy({
        config,
        source: new S3ModelSource(emulator.s3, emulator.modelBucket),
        models: [],
        workDir: join(dir, `comfy-work-shared-host-${n}`),
      });

    // Act
    const started = await Promise.all([start(1), start(2)]);

    // Assess: both answer, each on its own port.
    try {
      const urls = started.map((one) => one.supervisor.url);
      expect(config.COMFYUI_PORT).toBe(0);
      expect(new Set(urls).size).toBe(2);
      for (const url of urls) {
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect((await fetch(`${url}/system_stats`)).ok).toBe(true);
      }
    } finally {
      await Promise.all(started.map((one) => one.supervisor.stop()));
    }
  });

  it.each([
    ['sage', true],
    ['pytorch', false],
  ] as const)(
    'COMFYUI_ATTENTION=%s starts ComfyUI with --use-sage-attention: %s',
    async (attention, sage) => {
      // Prepare: the fake ComfyUI records its arguments; no models, so nothing is downloaded.
      const comfyDir = join(dir, `ComfyUI-${attention}`);
      await mkdir(comfyDir);
      const fake = pathToFileURL(join(import.meta.dirname, 'fake-comfy.mjs')).href;
      await writeFile(join(comfyDir, 'main.py'), `import(${JSON.stringify(fake)});\n`);
      const argsLog = join(dir, `args-${attention}.jsonl`);
      const config = ComfyRuntimeConfigSchema.parse({
        MODEL_BUCKET: emulator.modelBucket,
        MODEL_CACHE_DIR: join(dir, `cache-${attention}`),
        COMFYUI_DIR: comfyDir,
        COMFYUI_PYTHON: process.execPath,
        COMFYUI_PORT: String(await freeLoopbackPort()),
        COMFYUI_ATTENTION: attention,
      });
      process.env.FAKE_COMFY_LOG = argsLog;

      // Act
      let started: Awaited<ReturnType<typeof startComfy>>;
      try {
        started = await startComfy({
          config,
          source: new S3ModelSource(emulator.s3, emulator.modelBucket),
          models: [],
          workDir: join(dir, `comfy-work-${attention}`),
        });
      } finally {
        delete process.env.FAKE_COMFY_LOG;
      }

      // Assess
      try {
        const [first] = (await readFile(argsLog, 'utf8')).trim().split('\n');
        const { args } = JSON.parse(first ?? '{}') as { args: string[] };
        expect(args).toContain('--disable-metadata');
        expect(args.includes('--use-sage-attention')).toBe(sage);
      } finally {
        await started.supervisor.stop();
      }
    },
  );
});
