import { describe, expect, it } from 'vitest';
import {
  executionErrorFrom,
  isOutOfMemory,
  validationErrorFrom,
} from '../../../gpu-container/worker/engines/comfy/comfy-errors.js';
import { PromptRejectedSchema } from '../../../gpu-container/worker/engines/comfy/comfy-messages.js';

/** A 400 body as execution.py validate_prompt builds it for two bad nodes. */
function rejectedBody() {
  return PromptRejectedSchema.parse({
    error: {
      type: 'prompt_outputs_failed_validation',
      message: 'Prompt outputs failed validation',
      details: 'Required input is missing: vae\nValue not in list: ckpt_name',
      extra_info: {},
    },
    node_errors: {
      '16': {
        errors: [
          {
            type: 'required_input_missing',
            message: 'Required input is missing',
            details: 'vae',
            extra_info: { input_name: 'vae' },
          },
        ],
        dependent_outputs: ['18'],
        class_type: 'VAEDecode',
      },
      '17': {
        errors: [
          {
            type: 'value_not_in_list',
            message: 'Value not in list',
            details: "ckpt_name: 'rife99.pth' not in ['rife47.pth']",
            extra_info: { input_name: 'ckpt_name', input_config: null, received_value: 'rife99.pth' },
          },
        ],
        dependent_outputs: ['18'],
        class_type: 'RIFE VFI',
      },
    },
  });
}

function executionError(exception_type: string, exception_message: string) {
  return {
    prompt_id: 'p',
    node_id: '14',
    node_type: 'KSamplerAdvanced',
    executed: ['1', '2'],
    exception_type,
    exception_message,
    traceback: ['a', 'b'],
    current_inputs: {},
    current_outputs: [],
  };
}

describe('validationErrorFrom', () => {
  it('writes one line per node problem, naming node id, class and input', () => {
    // Act
    const error = validationErrorFrom(rejectedBody());

    // Assess
    expect(error.code).toBe('COMFYUI_VALIDATION');
    expect(error.details?.lines).toEqual([
      'node 16 (VAEDecode) input vae: Required input is missing',
      "node 17 (RIFE VFI) input ckpt_name: Value not in list (ckpt_name: 'rife99.pth' not in ['rife47.pth'])",
    ]);
    expect(error.message.split('\n')[0]).toBe(
      'ComfyUI rejected the workflow: Prompt outputs failed validation',
    );
  });

  it('keeps the prompt-level reason when no node is to blame', () => {
    // Prepare
    const body = PromptRejectedSchema.parse({
      error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
      node_errors: {},
    });

    // Act
    const error = validationErrorFrom(body);

    // Assess
    expect(error.message).toBe('ComfyUI rejected the workflow: Prompt has no outputs');
    expect(error.details?.error_type).toBe('prompt_no_outputs');
  });
});

describe('executionErrorFrom', () => {
  it.each([
    ['torch.OutOfMemoryError', 'Allocation on device \nThis error means you ran out of memory on your GPU.'],
    ['torch.cuda.OutOfMemoryError', 'CUDA out of memory. Tried to allocate 2.00 GiB'],
    ['RuntimeError', 'CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 79.10 GiB total capacity)'],
  ])('recognises %s "%s" as GPU out of memory', (type, message) => {
    // Act
    const error = executionErrorFrom(executionError(type, message));

    // Assess
    expect(isOutOfMemory({ exception_type: type, exception_message: message })).toBe(true);
    expect(error.code).toBe('GPU_OUT_OF_MEMORY');
    expect(error.details?.hint).toBe('lower resolution or frame_length and send the request again');
  });

  it('keeps the first line of any other exception in the message and the rest in details', () => {
    // Act
    const error = executionErrorFrom(executionError('ValueError', 'bad shape\nmore context'));

    // Assess
    expect(error.code).toBe('COMFYUI_NODE_ERROR');
    expect(error.message).toBe('node 14 (KSamplerAdvanced) failed: ValueError: bad shape');
    expect(error.details).toMatchObject({
      exception_message: 'bad shape\nmore context',
      traceback: ['a', 'b'],
    });
  });
});
