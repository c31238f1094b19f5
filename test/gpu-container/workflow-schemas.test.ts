import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiPromptSchema, loadObjectInfo, validatePrompt } from '../support/comfy-node-schemas.js';

// Node schemas captured from ComfyUI a125cd84 + ComfyUI-Frame-Interpolation 26545cc2 on the GPU
// proving run (docs/gpu-proving.md); the model lists in them are the default model set's file names.
const objectInfo = loadObjectInfo('test/fixtures/comfyui/object_info.json');
const readPrompt = (path: string) => ApiPromptSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
const provenPrompt = () => readPrompt('gpu-container/smoke/reference-prompt.json');

const workflowsDir = 'gpu-container/workflows';
const templates = existsSync(workflowsDir)
  ? readdirSync(workflowsDir)
      .map((name) => join(workflowsDir, name, 'workflow.json'))
      .filter((path) => existsSync(path))
  : [];

describe('ComfyUI node schemas', () => {
  it('accept the prompt proven on the GPU', () => {
    expect(validatePrompt(provenPrompt(), objectInfo)).toEqual([]);
  });

  it.each(templates)('accept the workflow template %s', (path) => {
    expect(validatePrompt(readPrompt(path), objectInfo)).toEqual([]);
  });

  it('reject a model file that the default model set does not have', () => {
    const prompt = provenPrompt();
    const loader = prompt['1'];
    if (loader) loader.inputs.unet_name = 'wan2.1_t2v_1.3B.safetensors';

    expect(validatePrompt(prompt, objectInfo)).toEqual([
      'node 1 (UNETLoader).unet_name: "wan2.1_t2v_1.3B.safetensors" is not one of ["wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors","wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"]',
    ]);
  });

  it('reject a RIFE multiplier below its minimum and a missing required input', () => {
    const prompt = provenPrompt();
    const rife = prompt['17'];
    if (rife) {
      rife.inputs.multiplier = 0;
      delete rife.inputs.ckpt_name;
    }

    expect(validatePrompt(prompt, objectInfo)).toEqual([
      'node 17 (RIFE VFI): missing required input ckpt_name',
      'node 17 (RIFE VFI).multiplier: 0 < min 1',
    ]);
  });

  it('reject a link to an output of the wrong type', () => {
    const prompt = provenPrompt();
    const decode = prompt['16'];
    if (decode) decode.inputs.samples = ['13', 0];

    expect(validatePrompt(prompt, objectInfo)).toEqual([
      'node 16 (VAEDecode).samples: expects LATENT, node 13 output 0 is CONDITIONING',
    ]);
  });

  it('reject an unknown node type', () => {
    const prompt = provenPrompt();
    prompt['99'] = { class_type: 'WanImageToVideoTurbo', inputs: {} };

    expect(validatePrompt(prompt, objectInfo)).toEqual(['node 99: unknown node type WanImageToVideoTurbo']);
  });
});
