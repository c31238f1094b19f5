import { describe, expect, it } from 'vitest';
import { HistoryEntrySchema } from '../../../gpu-container/worker/engines/comfy/comfy-messages.js';
import { promptOutcome } from '../../../gpu-container/worker/engines/comfy/prompt-outcome.js';

const executionError = {
  prompt_id: 'p',
  node_id: '15',
  node_type: 'KSamplerAdvanced',
  executed: [],
  exception_message: 'CUDA out of memory. Tried to allocate 4.00 GiB',
  exception_type: 'torch.OutOfMemoryError',
  traceback: [],
  current_inputs: {},
  current_outputs: [],
};

/** A history entry as execution.py:1112 task_done writes it. */
function entry(status: unknown, outputs: unknown = {}) {
  return HistoryEntrySchema.parse({ prompt: [0, 'p', {}, {}, ['18']], outputs, status, meta: {} });
}

describe('promptOutcome', () => {
  it('returns the outputs of a prompt whose status is success', () => {
    // Prepare
    const outputs = { '18': { images: [{ filename: 'f_00001_.png', subfolder: 'h', type: 'output' }] } };

    // Act
    const outcome = promptOutcome(
      'p',
      entry({ status_str: 'success', completed: true, messages: [] }, outputs),
      undefined,
    );

    // Assess
    expect(outcome).toEqual({ promptId: 'p', outputs });
  });

  it('reads the execution_error kept in the status messages', () => {
    // Prepare
    const messages = [
      ['execution_start', { prompt_id: 'p', timestamp: 1 }],
      ['execution_error', { ...executionError, timestamp: 2 }],
    ];

    // Act
    const outcome = promptOutcome('p', entry({ status_str: 'error', completed: false, messages }), undefined);

    // Assess
    expect(outcome).toMatchObject({ code: 'GPU_OUT_OF_MEMORY', details: { node_id: '15' } });
  });

  it('reads an interruption kept in the status messages', () => {
    // Prepare
    const interrupted = { prompt_id: 'p', node_id: '17', node_type: 'RIFE VFI', executed: ['1'] };
    const messages = [['execution_interrupted', interrupted]];

    // Act
    const outcome = promptOutcome('p', entry({ status_str: 'error', completed: false, messages }), undefined);

    // Assess
    expect(outcome).toMatchObject({
      code: 'ENGINE_INTERRUPTED',
      details: { node_id: '17', node_type: 'RIFE VFI' },
    });
  });

  it('falls back to the socket execution_error when history has no status', () => {
    // Act
    const outcome = promptOutcome('p', entry(null), executionError);

    // Assess
    expect(outcome).toMatchObject({ code: 'GPU_OUT_OF_MEMORY' });
  });

  it('reports an entry it cannot read as INTERNAL instead of polling forever', () => {
    // Prepare
    const messages = [['execution_error', { node_id: 15 }]];

    // Act
    const outcome = promptOutcome('p', entry({ status_str: 'error', completed: false, messages }), undefined);

    // Assess
    expect(outcome).toMatchObject({ code: 'INTERNAL', details: { prompt_id: 'p' } });
  });
});
