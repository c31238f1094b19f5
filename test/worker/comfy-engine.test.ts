import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requestKeys } from '../../contracts/keys.js';
import { ResultSchema } from '../../contracts/result.js';
import { COMFY_SUBFOLDER, ComfyEngine } from '../../gpu-container/worker/engines/comfy/comfy-engine.js';
import { ComfyHttpClient } from '../../gpu-container/worker/engines/comfy/comfy-http-client.js';
import {
  loadWorkflow,
  type Workflow,
} from '../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';
import { runJob } from '../../gpu-container/worker/job/run-job.js';
import { ComfyDouble, TINY_PNG } from '../support/comfy-double.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { jobDeps, receiveOne, seedRequest, workDir } from './worker-fixtures.js';

let aws: Emulator;
let comfy: ComfyDouble;
let dir: string;
let workflow: Workflow;
const never = new AbortController().signal;

beforeAll(async () => {
  [aws, comfy, dir, workflow] = await Promise.all([
    startEmulator(),
    ComfyDouble.start(),
    workDir(),
    loadWorkflow({ name: 'wan22-flf2v-rife' }),
  ]);
});
beforeEach(() => {
  comfy.script = {};
});
afterAll(async () => {
  await Promise.all([aws.stop(), comfy.close()]);
  await rm(dir, { recursive: true, force: true });
});

function comfyEngine(): ComfyEngine {
  return new ComfyEngine({ client: new ComfyHttpClient({ url: comfy.url }), workflow, timeoutMs: 30_000 });
}

async function frameKeys(id: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const item of aws.objects.list(requestKeys(id).framesPrefix)) keys.push(item.key);
  return keys.sort();
}

describe('runJob with the ComfyUI engine (ComfyUI protocol double)', () => {
  it.each([
    [2, 33],
    [1, 17],
  ] as const)(
    'delivers the workflow output with interpolation %i as %i frames, labelled comfyui',
    async (m, count) => {
      // Prepare
      const id = `comfy-${m}`;
      const listener = aws.listen();
      await seedRequest(aws, id, { frameLength: 17, interpolation: m });
      const prompts = comfy.received.prompts.length;

      // Act
      const outcome = await runJob(await receiveOne(aws), jobDeps(aws, comfyEngine(), dir), never);

      // Assess
      expect(outcome.kind).toBe('succeeded');
      expect(await frameKeys(id)).toEqual(
        Array.from({ length: count }, (_, i) => requestKeys(id).frame(i + 1)),
      );
      const sent = comfy.received.prompts[prompts];
      expect(sent?.prompt['13']?.inputs).toMatchObject({ width: 96, height: 64, length: 17 });
      expect(sent?.prompt['14']?.inputs.noise_seed).toBe(7);
      expect(comfy.received.historyDeletes).toContain(sent?.prompt_id);
      const body = (await aws.objects.get(requestKeys(id).result))?.body;
      const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode(body)));
      expect(result.engine).toBe('comfyui');
      expect(result.workflow).toEqual({ name: 'wan22-flf2v-rife', sha256: workflow.sha256 });
      const events = await listener.drain();
      expect(events.map((e) => [e.status, e.engine, e.frames?.count])).toEqual([
        ['succeeded', 'comfyui', count],
      ]);
    },
  );

  it('reads frames from the ComfyUI output folder on this host, then removes its input and output files', async () => {
    // Prepare: ComfyUI on the same host writes its frames to its output folder (the double keeps them
    // in memory, so the test puts the files where ComfyUI would).
    const id = 'comfy-local';
    const folders = { input: join(dir, 'comfy-input'), output: join(dir, 'comfy-output') };
    const outputDir = join(folders.output, COMFY_SUBFOLDER, id);
    const inputDir = join(folders.input, COMFY_SUBFOLDER, id);
    await mkdir(outputDir, { recursive: true });
    await mkdir(inputDir, { recursive: true });
    await writeFile(join(inputDir, 'start.png'), TINY_PNG);
    for (let i = 1; i <= 33; i++) {
      await writeFile(join(outputDir, `frame_${String(i).padStart(5, '0')}_.png`), TINY_PNG);
    }
    await seedRequest(aws, id);
    const engine = new ComfyEngine({
      client: new ComfyHttpClient({ url: comfy.url }),
      workflow,
      timeoutMs: 30_000,
      folders,
    });

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, engine, dir), never);

    // Assess
    expect(outcome.kind).toBe('succeeded');
    expect(await frameKeys(id)).toHaveLength(33);
    expect(existsSync(outputDir)).toBe(false);
    expect(existsSync(inputDir)).toBe(false);
  });

  it('fails the request with GPU_OUT_OF_MEMORY when a sampler runs out of memory', async () => {
    // Prepare
    const listener = aws.listen();
    await seedRequest(aws, 'comfy-oom');
    comfy.script = {
      failAt: {
        classType: 'KSamplerAdvanced',
        exceptionType: 'torch.OutOfMemoryError',
        exceptionMessage: 'CUDA out of memory. Tried to allocate 2.00 GiB',
      },
    };

    // Act
    const outcome = await runJob(await receiveOne(aws), jobDeps(aws, comfyEngine(), dir), never);

    // Assess
    expect(outcome.kind).toBe('failed');
    expect((await aws.statuses.read('comfy-oom'))?.status.error?.code).toBe('GPU_OUT_OF_MEMORY');
    const events = await listener.drain();
    expect(events.map((e) => [e.status, e.error?.code, e.engine])).toEqual([
      ['failed', 'GPU_OUT_OF_MEMORY', 'comfyui'],
    ]);
  });
});
