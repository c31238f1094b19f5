import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { HeritageError } from '../../../contracts/errors.js';
import {
  type ApiPrompt,
  imagesOf,
  loadImageName,
} from '../../../gpu-container/worker/engines/comfy/comfy-client.js';
import { ComfyHttpClient } from '../../../gpu-container/worker/engines/comfy/comfy-http-client.js';

/** A 1×1 PNG, small enough for any ComfyUI's input folder. */
const PNG_1X1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

export function clientFor(
  url: string,
  overrides: Partial<ConstructorParameters<typeof ComfyHttpClient>[0]> = {},
) {
  return new ComfyHttpClient({
    url,
    historyPollMs: 50,
    reconnectGraceMs: 500,
    reconnectDelayMs: 20,
    ...overrides,
  });
}

export function emptyImagePrompt(
  options: { width?: number; batch?: number; prefix?: string } = {},
): ApiPrompt {
  return {
    '1': {
      class_type: 'EmptyImage',
      inputs: { width: options.width ?? 16, height: 16, batch_size: options.batch ?? 3, color: 0 },
    },
    '2': {
      class_type: 'SaveImage',
      inputs: { images: ['1', 0], filename_prefix: options.prefix ?? `heritage-test/${randomUUID()}` },
    },
  };
}

export async function rejection(promise: Promise<unknown>): Promise<HeritageError> {
  try {
    await promise;
  } catch (error) {
    return error as HeritageError;
  }
  throw new Error('expected the promise to reject');
}

/**
 * Behaviour any ComfyUI must show, the protocol double and a real one alike. It needs no model files:
 * EmptyImage, LoadImage and SaveImage are core nodes.
 */
export function clientContract(url: () => string): void {
  it('reports the system stats and node classes of the ComfyUI it talks to', async () => {
    // Prepare
    const client = clientFor(url());

    // Act
    const stats = await client.systemStats();
    const objectInfo = await client.objectInfo();

    // Assess
    expect(stats.devices.length).toBeGreaterThan(0);
    expect(objectInfo.SaveImage?.input.required).toHaveProperty('filename_prefix');
    expect(objectInfo.EmptyImage?.output).toEqual(['IMAGE']);
  });

  it('runs a prompt to its saved images under the prompt id it chose, then deletes its history', async () => {
    // Prepare
    const client = clientFor(url());
    const promptId = randomUUID();
    const seen: string[] = [];

    // Act
    const result = await client.runPrompt(emptyImagePrompt({ batch: 3 }), {
      promptId,
      timeoutMs: 60_000,
      onProgress: (progress) => seen.push(progress.kind),
    });
    const images = imagesOf(result, '2');
    const firstImage = await client.readImage(images[0] ?? { filename: '', subfolder: '', type: 'output' });
    await client.deleteHistory([promptId]);

    // Assess
    expect(result.promptId).toBe(promptId);
    expect(images).toHaveLength(3);
    expect(images.every((image) => image.type === 'output' && image.subfolder === 'heritage-test')).toBe(
      true,
    );
    expect([...firstImage.subarray(1, 4)]).toEqual([...Buffer.from('PNG')]);
    expect(seen[0]).toBe('queued');
    expect(await client.history(promptId)).toBeUndefined();
  });

  it('turns a 400 from /prompt into COMFYUI_VALIDATION with one readable line per problem', async () => {
    // Prepare
    const client = clientFor(url());

    // Act
    const error = await rejection(client.runPrompt(emptyImagePrompt({ width: 0 }), { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('COMFYUI_VALIDATION');
    expect(error.details?.lines).toEqual(['node 1 (EmptyImage) input width: Value 0 smaller than min of 1']);
    expect(error.message).toContain('node 1 (EmptyImage) input width');
  });

  it('names the missing node class when ComfyUI does not know it', async () => {
    // Prepare
    const client = clientFor(url());
    const prompt = emptyImagePrompt();
    prompt['1'] = { class_type: 'HeritageNoSuchNode', inputs: {} };

    // Act
    const error = await rejection(client.runPrompt(prompt, { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('COMFYUI_VALIDATION');
    expect(error.message).toContain('Cannot execute because node HeritageNoSuchNode does not exist.');
  });

  it('turns an execution_error into COMFYUI_NODE_ERROR with the node id, type and message', async () => {
    // Prepare
    const client = clientFor(url());
    const upload = await client.uploadImage({
      name: `${randomUUID()}.png`,
      subfolder: 'heritage-test',
      bytes: new TextEncoder().encode('this is not an image'),
    });
    const prompt: ApiPrompt = {
      '1': { class_type: 'LoadImage', inputs: { image: loadImageName(upload) } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'heritage-test/never' } },
    };

    // Act
    const error = await rejection(client.runPrompt(prompt, { timeoutMs: 60_000 }));

    // Assess
    expect(error.code).toBe('COMFYUI_NODE_ERROR');
    expect(error.details).toMatchObject({ node_id: '1', node_type: 'LoadImage' });
    expect(error.details?.exception_type).toMatch(/UnidentifiedImageError/);
    expect(error.message).toMatch(
      /^node 1 \(LoadImage\) failed: .*UnidentifiedImageError: cannot identify image file/,
    );
  });

  it('interrupts ComfyUI and fails with ENGINE_INTERRUPTED when the worker aborts the run', async () => {
    // Prepare
    const client = clientFor(url());
    const stop = new AbortController();
    const prompt: ApiPrompt = {
      '1': { class_type: 'EmptyImage', inputs: { width: 512, height: 512, batch_size: 2, color: 0 } },
      '2': {
        class_type: 'ImageScaleBy',
        inputs: { image: ['1', 0], upscale_method: 'lanczos', scale_by: 2 },
      },
      '3': {
        class_type: 'ImageScaleBy',
        inputs: { image: ['2', 0], upscale_method: 'lanczos', scale_by: 0.5 },
      },
      '4': {
        class_type: 'SaveImage',
        inputs: { images: ['3', 0], filename_prefix: 'heritage-test/aborted' },
      },
    };

    // Act
    const error = await rejection(
      client.runPrompt(prompt, {
        timeoutMs: 60_000,
        signal: stop.signal,
        onProgress: (event) => {
          if (event.kind === 'executing') stop.abort();
        },
      }),
    );

    // Assess
    expect(error.code).toBe('ENGINE_INTERRUPTED');
  });

  it('fails with REQUEST_TIMEOUT when the run outlasts its timeout', async () => {
    // Prepare
    const client = clientFor(url());

    // Act
    const error = await rejection(client.runPrompt(emptyImagePrompt(), { timeoutMs: 1 }));

    // Assess
    expect(error.code).toBe('REQUEST_TIMEOUT');
    expect(error.details?.timeout_ms).toBe(1);
  });

  it('uploads an image that LoadImage then reads', async () => {
    // Prepare
    const client = clientFor(url());
    const upload = await client.uploadImage({
      name: `${randomUUID()}.png`,
      subfolder: 'heritage-test',
      bytes: PNG_1X1,
    });
    const prompt: ApiPrompt = {
      '1': { class_type: 'LoadImage', inputs: { image: loadImageName(upload) } },
      '2': {
        class_type: 'SaveImage',
        inputs: { images: ['1', 0], filename_prefix: `heritage-test/${randomUUID()}` },
      },
    };

    // Act
    const result = await client.runPrompt(prompt, { timeoutMs: 60_000 });

    // Assess
    expect(upload).toMatchObject({ subfolder: 'heritage-test', type: 'input' });
    expect(imagesOf(result, '2')).toHaveLength(1);
  });
}
