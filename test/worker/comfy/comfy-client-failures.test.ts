import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outputFrameCount } from '../../../contracts/geometry.js';
import {
  type ApiPrompt,
  imagesOf,
  loadImageName,
  type RunProgress,
} from '../../../gpu-container/worker/engines/comfy/comfy-client.js';
import { watchProcess } from '../../../gpu-container/worker/engines/comfy/comfy-process.js';
import { loadWorkflow } from '../../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';
import {
  type RenderParameters,
  renderWorkflow,
} from '../../../gpu-container/worker/engines/comfy/workflow/render-workflow.js';
import { ComfyDouble, TINY_PNG } from '../../support/comfy-double.js';
import { spawnComfyDouble, stopProcess } from '../../support/comfy-double-process.js';
import { clientFor, rejection } from './client-contract.js';

const OUT_OF_MEMORY = {
  classType: 'KSamplerAdvanced',
  exceptionType: 'torch.OutOfMemoryError',
  exceptionMessage:
    'Allocation on device \nThis error means you ran out of memory on your GPU.\n\nTIPS: If the workflow worked before you might have accidentally set the batch_size to a large number.',
};

async function wanPrompt(double: ComfyDouble, overrides: Partial<RenderParameters> = {}): Promise<ApiPrompt> {
  const client = clientFor(double.url);
  const start = await client.uploadImage({ name: 'start.png', subfolder: 'req-1', bytes: TINY_PNG });
  const end = await client.uploadImage({ name: 'end.png', subfolder: 'req-1', bytes: TINY_PNG });
  const workflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });
  return renderWorkflow(workflow, {
    width: 832,
    height: 480,
    length: 17,
    steps: 4,
    seed: 7,
    positive: 'a heron takes off',
    negative: '',
    startImageName: loadImageName(start),
    endImageName: loadImageName(end),
    multiplier: 2,
    filenamePrefix: 'heritage/req-1/frame',
    ...overrides,
  });
}

describe('ComfyHttpClient following a Wan2.2 run on the protocol double', () => {
  let double: ComfyDouble;
  beforeEach(async () => {
    double = await ComfyDouble.start();
  });
  afterEach(async () => {
    await double.close();
  });

  it('returns (frame_length - 1) x multiplier + 1 frames and reports sampler progress', async () => {
    // Prepare
    const prompt = await wanPrompt(double, { length: 17, multiplier: 2, steps: 6 });
    const progress: RunProgress[] = [];

    // Act
    const result = await clientFor(double.url).runPrompt(prompt, {
      timeoutMs: 60_000,
      onProgress: (event) => progress.push(event),
    });

    // Assess
    expect(imagesOf(result, '18')).toHaveLength(outputFrameCount(17, 2));
    const samplerSteps = progress.filter((event) => event.kind === 'progress' && event.node === '14');
    expect(samplerSteps.map((event) => (event.kind === 'progress' ? event.value : -1))).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
    expect(progress).toContainEqual({
      kind: 'executing',
      promptId: result.promptId,
      node: '17',
      classType: 'RIFE VFI',
    });
  });

  it('sends the client id and the prompt id so that ComfyUI routes the socket events to this worker', async () => {
    // Prepare
    const client = clientFor(double.url, { clientId: 'worker-a' });
    const prompt = await wanPrompt(double);

    // Act
    await client.runPrompt(prompt, { promptId: 'request-42-attempt-1', timeoutMs: 60_000 });

    // Assess
    expect(double.received.prompts.map(({ prompt_id, client_id }) => ({ prompt_id, client_id }))).toEqual([
      { prompt_id: 'request-42-attempt-1', client_id: 'worker-a' },
    ]);
  });

  it('maps CUDA out of memory to GPU_OUT_OF_MEMORY with the hint to lower resolution or frame_length', async () => {
    // Prepare
    double.script = { failAt: OUT_OF_MEMORY };
    const prompt = await wanPrompt(double);

    // Act
    const error = await rejection(clientFor(double.url).runPrompt(prompt, { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('GPU_OUT_OF_MEMORY');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('lower resolution or frame_length');
    expect(error.details).toMatchObject({ node_id: '14', node_type: 'KSamplerAdvanced' });
  });

  it('maps any other node exception to COMFYUI_NODE_ERROR naming node id, type and message', async () => {
    // Prepare
    double.script = {
      failAt: {
        classType: 'RIFE VFI',
        exceptionType: 'RuntimeError',
        exceptionMessage: 'cupy is not installed',
      },
    };
    const prompt = await wanPrompt(double);

    // Act
    const error = await rejection(clientFor(double.url).runPrompt(prompt, { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('COMFYUI_NODE_ERROR');
    expect(error.message).toBe('node 17 (RIFE VFI) failed: RuntimeError: cupy is not installed');
  });

  it('reports every validation problem of a bad render, one line each', async () => {
    // Prepare
    const prompt = await wanPrompt(double);
    const sampler = prompt['14'];
    const unet = prompt['1'];
    if (sampler === undefined || unet === undefined) throw new Error('the default workflow lost its nodes');
    sampler.inputs.steps = 0;
    unet.inputs.unet_name = 'missing.safetensors';

    // Act
    const error = await rejection(clientFor(double.url).runPrompt(prompt, { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('COMFYUI_VALIDATION');
    expect(error.details?.lines).toEqual([
      expect.stringMatching(
        /^node 1 \(UNETLoader\) input unet_name: Value not in list \(unet_name: 'missing/,
      ),
      'node 14 (KSamplerAdvanced) input steps: Value 0 smaller than min of 1',
    ]);
  });

  it('reconnects when the socket drops while ComfyUI stays up, and finishes the run', async () => {
    // Prepare
    double.script = { dropSocketsAt: 'VAEDecode', holdUntilReconnect: true };
    const prompt = await wanPrompt(double);
    const kinds: string[] = [];

    // Act
    const result = await clientFor(double.url).runPrompt(prompt, {
      timeoutMs: 60_000,
      onProgress: (event) => kinds.push(event.kind),
    });

    // Assess
    expect(kinds).toContain('reconnected');
    expect(imagesOf(result, '18')).toHaveLength(outputFrameCount(17, 2));
  });

  it('finishes through /history when the socket drops and cannot come back', async () => {
    // Prepare
    double.script = { dropSocketsAt: 'VAEDecode' };
    double.onNodeStart = (_node, classType) => {
      if (classType === 'VAEDecode') double.script = { ...double.script, refuseSockets: true };
    };
    const prompt = await wanPrompt(double);

    // Act
    const result = await clientFor(double.url).runPrompt(prompt, { timeoutMs: 60_000 });

    // Assess
    expect(imagesOf(result, '18')).toHaveLength(outputFrameCount(17, 2));
  });

  it('finishes through /history when no socket event arrives at all', async () => {
    // Prepare
    double.script = { silent: true };
    const prompt = await wanPrompt(double, { multiplier: 1 });

    // Act
    const result = await clientFor(double.url).runPrompt(prompt, { timeoutMs: 60_000 });

    // Assess
    expect(imagesOf(result, '18')).toHaveLength(outputFrameCount(17, 1));
  });

  it('fails with ENGINE_CRASHED when ComfyUI dies mid-run and stays unreachable', async () => {
    // Prepare
    double.onNodeStart = (_node, classType) => {
      if (classType === 'KSamplerAdvanced') void double.crash();
    };
    const prompt = await wanPrompt(double);

    // Act
    const error = await rejection(
      clientFor(double.url, { reconnectGraceMs: 300 }).runPrompt(prompt, { timeoutMs: 600_000 }),
    );

    // Assess
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('stayed unreachable for 300 ms');
  });

  it('fails with ENGINE_CRASHED when ComfyUI comes back without the prompt (a restart)', async () => {
    // Prepare
    double.onNodeStart = (_node, classType) => {
      if (classType === 'KSamplerAdvanced') void double.restart();
    };
    const prompt = await wanPrompt(double);

    // Act
    const client = clientFor(double.url, { reconnectGraceMs: 600_000 });
    const error = await rejection(client.runPrompt(prompt, { timeoutMs: 600_000 }));

    // Assess
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.message).toMatch(/restarted and lost prompt/);
  });

  it('interrupts ComfyUI and fails with ENGINE_INTERRUPTED when the worker aborts the run', async () => {
    // Prepare
    double.script = { hangAt: 'KSamplerAdvanced' };
    const prompt = await wanPrompt(double);
    const stop = new AbortController();

    // Act
    const error = await rejection(
      clientFor(double.url).runPrompt(prompt, {
        promptId: 'p-abort',
        timeoutMs: 600_000,
        signal: stop.signal,
        onProgress: (event) => {
          if (event.kind === 'executing' && event.classType === 'KSamplerAdvanced') stop.abort();
        },
      }),
    );

    // Assess
    expect(error.code).toBe('ENGINE_INTERRUPTED');
    expect(double.received.interrupts).toEqual([{ prompt_id: 'p-abort' }]);
    expect(double.received.frees).toEqual([]);
  });

  it('fails with ENGINE_INTERRUPTED naming the node when someone else interrupts ComfyUI', async () => {
    // Prepare
    double.script = { hangAt: 'VAEDecode' };
    const client = clientFor(double.url);
    const prompt = await wanPrompt(double);

    // Act
    const error = await rejection(
      client.runPrompt(prompt, {
        timeoutMs: 600_000,
        onProgress: (event) => {
          if (event.kind === 'executing' && event.classType === 'VAEDecode') void client.interrupt();
        },
      }),
    );

    // Assess
    expect(error.code).toBe('ENGINE_INTERRUPTED');
    expect(error.details).toMatchObject({ node_id: '16', node_type: 'VAEDecode' });
  });

  it('interrupts and frees ComfyUI when a run exceeds its timeout', async () => {
    // Prepare
    double.script = { hangAt: 'KSamplerAdvanced' };
    const prompt = await wanPrompt(double);

    // Act
    const error = await rejection(
      clientFor(double.url).runPrompt(prompt, { promptId: 'p-slow', timeoutMs: 200 }),
    );

    // Assess
    expect(error.code).toBe('REQUEST_TIMEOUT');
    expect(double.received.interrupts).toEqual([{ prompt_id: 'p-slow' }]);
    expect(double.received.queueDeletes).toEqual(['p-slow']);
    expect(double.received.frees).toEqual([{ unload_models: true, free_memory: true }]);
  });
});

describe('ComfyHttpClient watching the ComfyUI process', () => {
  it('fails at once with ENGINE_CRASHED when the ComfyUI process is killed mid-run', async () => {
    // Prepare: the grace period and the timeout are far beyond the test's limit, so only the process
    // watch can end this run in time.
    const { child, url } = await spawnComfyDouble({ hangAt: 'EmptyImage' });
    try {
      const client = clientFor(url, { process: watchProcess(child), reconnectGraceMs: 600_000 });
      const prompt: ApiPrompt = {
        '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
        '2': {
          class_type: 'SaveImage',
          inputs: { images: ['1', 0], filename_prefix: 'heritage-test/crash' },
        },
      };

      // Act
      const error = await rejection(
        client.runPrompt(prompt, {
          timeoutMs: 600_000,
          onProgress: (event) => {
            if (event.kind === 'executing') child.kill('SIGKILL');
          },
        }),
      );

      // Assess
      expect(error.code).toBe('ENGINE_CRASHED');
      expect(error.details).toMatchObject({ signal: 'SIGKILL', pid: child.pid });
    } finally {
      await stopProcess(child);
    }
  });
});
