/**
 * `heritage gpu-smoke [--synthetic] [--runs N] [--resolution 480|640|720|1080]`: run the reference
 * request on this GPU and print per-node times, ComfyUI execution time and peak GPU memory.
 *
 * Runs inside the GPU container (Python, ComfyUI and the pinned node pack are there). With
 * `--synthetic` it first writes random-valued stand-ins for the default model set, so a fresh
 * machine needs no 37 GB download: frames are noise, the graph, memory and timings are real.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { computeGeometry } from '../contracts/geometry.js';
import { RESOLUTIONS } from '../contracts/manifest.js';
import { COMMON_OPTIONS, parseCommand } from './args.js';
import { UsageError } from './exit-codes.js';

/** The reference request's start image; other resolutions scale it as requests do. */
const REFERENCE_IMAGE = { width: 832, height: 480 };

const SmokeEnvSchema = z.object({
  COMFYUI_DIR: z.string().min(1).describe('Where ComfyUI is installed'),
  MODEL_CACHE_DIR: z.string().min(1).describe('Model root that ComfyUI reads'),
  MODEL_MANIFEST: z.string().default('/opt/heritage/models.json'),
  HERITAGE_SMOKE_DIR: z.string().default('/opt/heritage/smoke'),
  COMFYUI_URL: z.string().url().optional().describe('Use this running ComfyUI instead of starting one'),
  COMFYUI_ARGS: z.string().default('--listen 127.0.0.1 --port 8188 --disable-auto-launch'),
  PYTHON: z.string().default('python3'),
});

function run(command: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

async function waitForComfy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await fetch(`${url}/system_stats`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`ComfyUI did not answer at ${url} within ${timeoutMs / 1000} s`);
}

export const GPU_SMOKE_USAGE = `heritage gpu-smoke [--synthetic] [--runs N] [--resolution 480|640|720|1080] [--prompt FILE]
  inside the GPU image: runs the reference request on this GPU and prints per-node times, ComfyUI
  execution time and peak GPU memory (COMFYUI_DIR and MODEL_CACHE_DIR must be set; COMFYUI_URL uses a
  running ComfyUI). --synthetic first writes random-valued model files: the frames are noise.`;

export async function gpuSmoke(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    'gpu-smoke',
    argv,
    {
      help: COMMON_OPTIONS.help,
      synthetic: { type: 'boolean', default: false },
      runs: { type: 'string', default: '2' },
      resolution: { type: 'string', default: '480' },
      prompt: { type: 'string' },
    },
    { min: 0, max: 0, names: 'no arguments' },
  );
  if (values.help === true) {
    process.stdout.write(`${GPU_SMOKE_USAGE}\n`);
    return;
  }
  const resolution = Number(values.resolution);
  if (!(RESOLUTIONS as readonly number[]).includes(resolution)) {
    throw new UsageError(`--resolution must be one of ${RESOLUTIONS.join(', ')}`);
  }
  const size = computeGeometry(REFERENCE_IMAGE, { resolution, frame_length: 65, interpolation: 2 });
  const env = SmokeEnvSchema.parse(process.env);
  const frameInterpolationDir = join(env.COMFYUI_DIR, 'custom_nodes', 'ComfyUI-Frame-Interpolation');

  if (values.synthetic) {
    console.log('gpu-smoke: writing SYNTHETIC model files (random values): the frames will be noise.');
    await run(env.PYTHON, [
      join(env.HERITAGE_SMOKE_DIR, 'synthesize_models.py'),
      ...['--manifest', env.MODEL_MANIFEST, '--models-dir', env.MODEL_CACHE_DIR],
      ...['--comfyui-dir', env.COMFYUI_DIR, '--frame-interpolation-dir', frameInterpolationDir],
    ]);
  }

  let url = env.COMFYUI_URL;
  let comfy: ReturnType<typeof spawn> | undefined;
  if (!url) {
    const args = env.COMFYUI_ARGS.split(/\s+/).filter(Boolean);
    const port = args[args.indexOf('--port') + 1] ?? '8188';
    comfy = spawn(env.PYTHON, ['main.py', ...args], { cwd: env.COMFYUI_DIR, stdio: 'inherit' });
    url = `http://127.0.0.1:${port}`;
    await waitForComfy(url, 300_000);
  }
  try {
    await run(env.PYTHON, [
      join(env.HERITAGE_SMOKE_DIR, 'gpu_smoke.py'),
      ...['--url', url, '--prompt', values.prompt ?? join(env.HERITAGE_SMOKE_DIR, 'reference-prompt.json')],
      ...['--width', String(size.width), '--height', String(size.height)],
      ...['--image-width', String(REFERENCE_IMAGE.width), '--image-height', String(REFERENCE_IMAGE.height)],
      ...['--runs', values.runs],
      ...(values.synthetic ? ['--label', 'synthetic-weights'] : []),
    ]);
  } finally {
    comfy?.kill('SIGTERM');
  }
}
