/**
 * The worker image's smoke test, without a GPU: `npm run smoke:image` (and
 * test/gpu-container/container-smoke.test.ts, whenever the image is present). Each check runs the
 * built image as it ships (its non-root user, tini as PID 1, its own environment):
 *
 *   imports      every Python import the default workflow needs, and the frame-interpolation pack's
 *                downloader refusing to fetch;
 *   comfyui      ComfyUI starts on the CPU in the container and the default workflow validates against
 *                its live /object_info (empty placeholder files stand in for the model files);
 *   request      the image's entrypoint, with the preview engine, drains one request from the local
 *                stack on the host: frames, video.mp4, result.json and one completion event;
 *   health       the HEALTHCHECK command answers while the worker waits for work;
 *   sigterm      the worker exits 0 on SIGTERM (docker stop), forwarded by tini.
 *
 * Host networking throughout: the container reaches the host's loopback services as the host does.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { CompletionEventSchema } from '../../contracts/event.js';
import { requestKeys } from '../../contracts/keys.js';
import { ModelManifestSchema } from '../../contracts/model-manifest.js';
import { ResultSchema } from '../../contracts/result.js';
import { demoImages } from '../../local/demo/demo-images.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { prepareSubmission } from '../../local/submission/prepare-submission.js';
import { uploadSubmission } from '../../local/submission/upload-submission.js';
import { extraModelPathsYaml } from '../worker/engines/comfy/extra-model-paths.js';
import { comfyArgs, comfyDirectories, freeLoopbackPort } from '../worker/engines/comfy/supervisor.js';
import { loadWorkflow } from '../worker/engines/comfy/workflow/load-workflow.js';
import { validateWorkflow } from '../worker/engines/comfy/workflow/validate-workflow.js';

const exec = promisify(execFile);

export const DEFAULT_IMAGE = 'heritage-gpu:dev';
const CONTAINER_MODELS = '/models';

export interface SmokeCheck {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** Whether `image` is in the local Docker engine (false also when there is no engine). */
export async function imagePresent(image: string): Promise<boolean> {
  return docker(['image', 'inspect', '--format', '{{.Id}}', image], 20_000).then(
    () => true,
    () => false,
  );
}

/** Thrown by a probe to end the wait at once (the thing waited for can no longer happen). */
class StopWaiting extends Error {}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch((error: unknown) => {
      if (error instanceof StopWaiting) throw new Error(`${what}: ${error.message}`);
      return undefined;
    });
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
}

const IMPORTS_SCRIPT = `
import importlib, importlib.metadata, sys
sys.argv = ["main.py", "--cpu"]
sys.path.insert(0, "/opt/comfyui")
import comfy.options
comfy.options.enable_args_parsing()  # as main.py does, so that --cpu holds without a GPU
modules = ["torch", "torchvision", "torchaudio", "torchsde", "av", "spandrel", "pydantic", "pydantic_settings",
           "sqlalchemy", "alembic", "comfyui_frontend_package", "cv2", "kornia", "einops", "safetensors",
           "transformers", "sentencepiece", "aiohttp", "scipy", "cupy", "comfy.model_management", "nodes"]
for name in modules:
    importlib.import_module(name)
print("sageattention", importlib.metadata.version("sageattention"))
sys.path.insert(0, "/opt/comfyui/custom_nodes/ComfyUI-Frame-Interpolation")
import vfi_utils
try:
    vfi_utils.load_file_from_url("https://github.com/example/releases/download/models/rife47.pth", "/tmp/rife")
except RuntimeError as error:
    assert "Heritage" in str(error), error
    print("downloader refused:", error)
else:
    raise SystemExit("the frame-interpolation pack downloaded a model")
print("imports ok:", len(modules))
`;

async function checkImports(image: string): Promise<string> {
  const out = await docker(
    ['run', '--rm', '--network', 'none', image, 'python', '-c', IMPORTS_SCRIPT],
    300_000,
  );
  return out.split('\n').slice(-3).join('; ');
}

async function checkComfyUi(image: string, work: string): Promise<string> {
  const workflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });
  const manifest = ModelManifestSchema.parse(
    JSON.parse(await docker(['run', '--rm', '--network', 'none', image, 'cat', '/opt/heritage/models.json'])),
  );
  const models = join(work, 'models');
  for (const model of manifest.models) {
    await mkdir(join(models, model.folder), { recursive: true });
    await writeFile(join(models, model.folder, model.name), '');
  }
  await writeFile(
    join(work, 'extra_model_paths.yaml'),
    extraModelPathsYaml(
      CONTAINER_MODELS,
      manifest.models.map((m) => m.folder),
    ),
  );
  const port = await freeLoopbackPort();
  const name = `heritage-smoke-comfy-${process.pid}`;
  const mounts = [
    ['-v', `${models}:${CONTAINER_MODELS}:ro`],
    ['-v', `${work}/extra_model_paths.yaml:/tmp/extra_model_paths.yaml:ro`],
  ].flat();
  // As the worker starts it (engines/comfy/supervisor.ts), its directories made first under the scratch path.
  const directories = comfyDirectories('/tmp/comfy');
  const args = comfyArgs({ port, directories, pathsFile: '/tmp/extra_model_paths.yaml' });
  await docker([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    ...mounts,
    image,
    'sh',
    '-c',
    `mkdir -p ${Object.values(directories).join(' ')} && exec python /opt/comfyui/main.py --cpu --disable-auto-launch "$@"`,
    'comfyui',
    ...args,
  ]);
  try {
    const objectInfo = await until('ComfyUI answering /object_info', 240_000, async () => {
      if ((await docker(['inspect', '--format', '{{.State.Running}}', name])) !== 'true') {
        throw new StopWaiting('ComfyUI exited');
      }
      const response = await fetch(`http://127.0.0.1:${port}/object_info`);
      return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    validateWorkflow(workflow, objectInfo as Parameters<typeof validateWorkflow>[1]);
    return `${Object.keys(objectInfo).length} node types; ${workflow.name} validates`;
  } catch (error) {
    // ComfyUI logs to stderr: both streams, as `docker logs` keeps them apart.
    const logs = await exec('docker', ['logs', '--tail', '30', name], { maxBuffer: 16 << 20 }).then(
      ({ stdout, stderr }) => `${stdout}${stderr}`.trim(),
      () => '',
    );
    throw new Error(`${(error as Error).message}\n${logs}`);
  } finally {
    await docker(['rm', '-f', name]).catch(() => undefined);
  }
}

function workerEnv(stack: LocalStack, extra: Record<string, string>): string[] {
  const env = {
    ...stack.env,
    POWERTOOLS_LOG_LEVEL: 'INFO',
    WORKER_ENGINE: 'preview',
    ...extra,
  };
  return Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
}

async function smallRequest(stack: LocalStack, id: string): Promise<void> {
  const images = await demoImages();
  const submission = prepareSubmission({
    id,
    start: images.start,
    end: images.end,
    fields: { resolution: 480, frame_length: 17, interpolation: 2, steps: 4, seed: 7, video: true },
  });
  await uploadSubmission(stack.objects, submission);
}

async function checkRequest(image: string, stack: LocalStack, events: string): Promise<string> {
  const id = `smoke-${process.pid}`;
  await smallRequest(stack, id);
  await until('dispatch queueing the request', 60_000, async () =>
    (await stack.statuses.read(id))?.status.state === 'queued' ? true : undefined,
  );
  const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
    const child = spawn(
      'docker',
      ['run', '--rm', '--network', 'host', ...workerEnv(stack, { IDLE_TIMEOUT_SECONDS: '0' }), image],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.on('close', (exitCode) => resolve({ stdout: text, code: exitCode }));
  });
  if (code !== 0) throw new Error(`the worker container exited ${code}:\n${stdout.slice(-3000)}`);
  const stored = await stack.objects.get(requestKeys(id).result);
  if (stored === undefined) throw new Error(`no result.json for ${id}`);
  const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode(stored.body)));
  const video = await stack.objects.head(requestKeys(id).video);
  const received = await stack.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: events, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
  );
  const completions = (received.Messages ?? [])
    .map((message) => CompletionEventSchema.parse(JSON.parse(JSON.parse(message.Body ?? '{}').Message)))
    .filter((event) => event.request_id === id);
  if (completions.length !== 1 || completions[0]?.status !== 'succeeded') {
    throw new Error(`expected one succeeded event for ${id}, got ${JSON.stringify(completions)}`);
  }
  if (video === undefined) throw new Error('no video.mp4');
  if (result.frames.keys.length !== 33)
    throw new Error(`expected 33 frames, got ${result.frames.keys.length}`);
  return `${result.frames.keys.length} frames ${result.frames.width}x${result.frames.height}, video.mp4 ${video.size} bytes, one ${completions[0].type} event`;
}

/** Starts the worker waiting for work; returns its container name once it logs "worker started". */
async function startIdleWorker(image: string, stack: LocalStack): Promise<string> {
  const name = `heritage-smoke-worker-${process.pid}`;
  await docker([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    ...workerEnv(stack, { IDLE_TIMEOUT_SECONDS: '600' }),
    image,
  ]);
  await until('the worker starting', 60_000, async () =>
    (await docker(['logs', name])).includes('"worker started"') ? true : undefined,
  );
  return name;
}

async function checkHealth(name: string): Promise<string> {
  const test = JSON.parse(
    await docker(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', name]),
  ) as string[];
  if (test[0] !== 'CMD') throw new Error(`unexpected HEALTHCHECK form ${JSON.stringify(test)}`);
  const user = await docker(['exec', name, 'id', '-un']);
  const pid1 = (await docker(['exec', name, 'cat', '/proc/1/cmdline'])).split('\0')[0];
  const answer = await docker(['exec', name, ...test.slice(1)]);
  if (user !== 'heritage') throw new Error(`the container runs as ${user}`);
  if (pid1 !== '/usr/bin/tini') throw new Error(`PID 1 is ${pid1}`);
  return `${answer} (user ${user}, PID 1 ${pid1})`;
}

async function checkSigterm(name: string): Promise<string> {
  const started = Date.now();
  await docker(['stop', '--time', '30', name], 60_000);
  const code = await docker(['inspect', '--format', '{{.State.ExitCode}}', name]);
  const logs = await docker(['logs', '--tail', '5', name]);
  if (code !== '0') throw new Error(`exit code ${code} after SIGTERM:\n${logs}`);
  if (!logs.includes('"worker exiting"')) throw new Error(`no "worker exiting" line:\n${logs}`);
  return `exit 0 in ${((Date.now() - started) / 1000).toFixed(1)} s`;
}

export async function runContainerSmoke(
  image: string,
  onCheck: (check: SmokeCheck) => void = () => {},
): Promise<SmokeCheck[]> {
  const checks: SmokeCheck[] = [];
  const run = async (name: string, body: () => Promise<string>): Promise<void> => {
    const started = Date.now();
    try {
      checks.push({ name, ok: true, detail: await body(), ms: Date.now() - started });
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message, ms: Date.now() - started });
    }
    onCheck(checks.at(-1) as SmokeCheck);
  };
  const work = await mkdtemp(join(tmpdir(), 'heritage-container-smoke-'));
  const stack = await startLocalStack({ maxWorkers: 0, workDir: join(work, 'stack') });
  const events = stack.aws.subscribeQueue('container-smoke-events');
  let worker: string | undefined;
  try {
    await run('imports', () => checkImports(image));
    await run('comfyui', () => checkComfyUi(image, work));
    await run('request', () => checkRequest(image, stack, events));
    await run('health', async () => {
      worker = await startIdleWorker(image, stack);
      return checkHealth(worker);
    });
    await run('sigterm', async () => {
      if (worker === undefined) throw new Error('no worker container to stop');
      return checkSigterm(worker);
    });
  } finally {
    if (worker !== undefined) await docker(['rm', '-f', worker]).catch(() => undefined);
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
  return checks;
}
