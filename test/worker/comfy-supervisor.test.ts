import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ComfyOutputLine,
  ComfySupervisor,
  type ComfySupervisorOptions,
  freeLoopbackPort,
} from '../../gpu-container/worker/engines/comfy/supervisor.js';

const FAKE_COMFY = join(import.meta.dirname, 'fake-comfy.mjs');

interface Launch {
  pid: number;
  args: string[];
}

describe('ComfySupervisor', () => {
  let workDir: string;
  let launches: string;
  let supervisor: ComfySupervisor | undefined;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'heritage-comfy-'));
    launches = join(workDir, 'launches.jsonl');
  });
  afterEach(async () => {
    await supervisor?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  const supervise = async (overrides: Partial<ComfySupervisorOptions> = {}) => {
    supervisor = new ComfySupervisor({
      command: process.execPath,
      entry: [FAKE_COMFY],
      port: await freeLoopbackPort(),
      workDir: join(workDir, 'comfy'),
      modelCacheDir: '/nvme/models',
      modelFolders: ['diffusion_models', 'loras', 'vae', 'text_encoders'],
      maxRestarts: 2,
      readyTimeoutMs: 30_000,
      env: { ...process.env, FAKE_COMFY_LOG: launches },
      ...overrides,
    });
    return supervisor;
  };
  const launched = async (): Promise<Launch[]> =>
    (await readFile(launches, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Launch);
  /** Makes the running fake ComfyUI exit, and resolves once it has. */
  const kill = async (comfy: ComfySupervisor) => {
    const child = comfy.process;
    if (child === undefined) throw new Error('nothing to kill');
    const exited = once(child, 'exit');
    await fetch(`${comfy.url}/die`, { method: 'POST' }).then((response) => response.text());
    await exited;
  };

  it('starts ComfyUI on loopback with its own directories (user and database too), --disable-metadata and the model cache as model paths', async () => {
    // Prepare
    const comfy = await supervise();

    // Act
    await comfy.start();

    // Assess
    const [first] = await launched();
    const dir = join(workDir, 'comfy');
    // biome-ignore format: flag and value side by side
    expect(first?.args).toEqual([
      '--listen', '127.0.0.1', '--port', String(new URL(comfy.url).port), '--disable-metadata',
      '--input-directory', join(dir, 'input'), '--output-directory', join(dir, 'output'),
      '--temp-directory', join(dir, 'temp'), '--user-directory', join(dir, 'user'),
      '--database-url', `sqlite:///${join(dir, 'user', 'comfyui.db')}`,
      '--extra-model-paths-config', join(dir, 'extra_model_paths.yaml'),
    ]);
    // ComfyUI's install is read-only to the worker in the image: every directory it writes is here.
    for (const name of ['input', 'output', 'temp', 'user'])
      expect((await stat(join(dir, name))).isDirectory()).toBe(true);
    expect(await readFile(join(dir, 'extra_model_paths.yaml'), 'utf8')).toBe(
      'heritage:\n  base_path: "/nvme/models"\n  is_default: true\n  diffusion_models: "diffusion_models"\n  loras: "loras"\n  text_encoders: "text_encoders"\n  vae: "vae"\n',
    );
    expect(comfy.process?.pid).toBe(first?.pid);
  });

  it('hands each line ComfyUI writes to the worker, a progress bar split at its carriage returns', async () => {
    // Prepare
    const lines: ComfyOutputLine[] = [];
    let expected: () => void = () => {};
    const threeLines = new Promise<void>((resolve) => {
      expected = resolve;
    });
    const comfy = await supervise({
      onOutput: (line) => {
        lines.push(line);
        if (lines.length === 3) expected();
      },
    });

    // Act
    await comfy.start();
    await threeLines;

    // Assess
    expect(lines.filter((line) => line.stream === 'stderr')).toEqual([
      { stream: 'stderr', text: 'Total VRAM 81559 MB, total RAM 2063822 MB' },
    ]);
    expect(lines.filter((line) => line.stream === 'stdout')).toEqual([
      { stream: 'stdout', text: ' 50%|#####     | 4/8' },
      { stream: 'stdout', text: '100%|##########| 8/8' },
    ]);
  });

  it('restarts ComfyUI when it dies between requests', async () => {
    // Prepare
    const comfy = await supervise();
    await comfy.start();
    const firstPid = comfy.process?.pid;

    // Act
    await kill(comfy);
    await comfy.ensureRunning();

    // Assess
    expect(comfy.restarts).toBe(1);
    expect(comfy.process?.pid).not.toBe(firstPid);
    expect((await fetch(`${comfy.url}/system_stats`)).ok).toBe(true);
    expect((await launched()).map((launch) => launch.pid)).toEqual([firstPid, comfy.process?.pid]);
  });

  it('gives up with ENGINE_CRASHED once its restarts are spent, so that the worker exits', async () => {
    // Prepare
    const comfy = await supervise({ maxRestarts: 1 });
    await comfy.start();
    await kill(comfy);
    await comfy.ensureRunning();

    // Act
    await kill(comfy);

    // Assess
    await expect(comfy.ensureRunning()).rejects.toMatchObject({
      code: 'ENGINE_CRASHED',
      details: { restarts: 1 },
    });
    expect(await launched()).toHaveLength(2);
  });

  it('fails fast with ENGINE_CRASHED when ComfyUI exits while starting, instead of waiting out the timeout', async () => {
    // Prepare
    const comfy = await supervise({
      maxRestarts: 0,
      env: { ...process.env, FAKE_COMFY_LOG: launches, FAKE_COMFY_FAIL_START: '1' },
    });

    // Act
    const starting = comfy.start();

    // Assess
    await expect(starting).rejects.toMatchObject({ code: 'ENGINE_CRASHED' });
    expect(await launched()).toHaveLength(1);
  });
  it('gives the client a process watch that follows ComfyUI across a restart', async () => {
    // Prepare
    const comfy = await supervise();
    await comfy.start();
    const watch = comfy.watch();
    const firstPid = watch.pid;

    // Act
    await kill(comfy);
    await comfy.ensureRunning();

    // Assess
    expect(watch.pid).not.toBe(firstPid);
    expect(watch.pid).toBe(comfy.process?.pid);
    expect(watch.hasExited()).toBe(false);
  });
});
