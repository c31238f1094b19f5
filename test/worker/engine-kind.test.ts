import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from '../../gpu-container/worker/config.js';
import { engineKind } from '../../gpu-container/worker/engines/registry.js';

const base = {
  REQUEST_BUCKET: 'b',
  WORK_QUEUE_URL: 'http://127.0.0.1:1/q',
  COMPLETIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
};
const kind = (env: Record<string, string>) => engineKind(loadWorkerConfig({ ...base, ...env }));

describe('worker engine choice', () => {
  it('runs ComfyUI itself in the GPU image (COMFYUI_DIR, no COMFYUI_URL)', () => {
    expect(kind({ COMFYUI_DIR: '/opt/comfyui' })).toBe('managed');
  });

  it('renders with a ComfyUI at COMFYUI_URL when one is given', () => {
    expect(kind({ COMFYUI_DIR: '/opt/comfyui', COMFYUI_URL: 'http://127.0.0.1:8188' })).toBe('remote');
  });

  it('falls back to the CPU preview with neither', () => {
    expect(kind({})).toBe('preview');
  });

  it('takes WORKER_ENGINE over what the other variables imply, so the GPU image can run the preview', () => {
    expect(kind({ COMFYUI_DIR: '/opt/comfyui', WORKER_ENGINE: 'preview' })).toBe('preview');
  });

  it('refuses a WORKER_ENGINE its variables cannot serve, naming the missing one', () => {
    expect(() => kind({ WORKER_ENGINE: 'remote' })).toThrow('WORKER_ENGINE=remote needs COMFYUI_URL');
    expect(() => kind({ WORKER_ENGINE: 'managed' })).toThrow('WORKER_ENGINE=managed needs COMFYUI_DIR');
    expect(() => kind({ WORKER_ENGINE: 'gpu' })).toThrow(/WORKER_ENGINE/);
  });
});
