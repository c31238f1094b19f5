import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../../gpu-container/worker/engines/comfy/comfy-messages.js';
import {
  loadWorkflow,
  type Workflow,
} from '../../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';
import {
  boundInputs,
  objectInfoProblems,
  structureProblems,
  validateWorkflow,
} from '../../../gpu-container/worker/engines/comfy/workflow/validate-workflow.js';

const objectInfo = JSON.parse(
  readFileSync(
    new URL('../../fixtures/comfyui/object_info.derived-from-source.json', import.meta.url),
    'utf8',
  ),
) as ObjectInfo;

let defaultWorkflow: Workflow;
beforeAll(async () => {
  defaultWorkflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });
});

/** A copy of the default workflow to break one thing in. */
function copy(): Workflow {
  return structuredClone(defaultWorkflow);
}

function node(workflow: Workflow, id: string) {
  const found = workflow.template[id];
  if (found === undefined) throw new Error(`node ${id} is not in the default workflow`);
  return found;
}

describe('structureProblems', () => {
  it('finds none in the default workflow', () => {
    // Act + Assess
    expect(structureProblems(defaultWorkflow.template, defaultWorkflow.bindings)).toEqual([]);
  });

  it('reports a link to a node that does not exist', () => {
    // Prepare
    const workflow = copy();
    node(workflow, '16').inputs.samples = ['99', 0];

    // Act + Assess
    expect(structureProblems(workflow.template, workflow.bindings)).toEqual([
      'node 16 (VAEDecode) input samples links to missing node 99',
    ]);
  });

  it('reports links that form a cycle', () => {
    // Prepare
    const workflow = copy();
    node(workflow, '14').inputs.latent_image = ['15', 0];

    // Act + Assess
    expect(structureProblems(workflow.template, workflow.bindings)).toEqual([
      expect.stringMatching(/^links form a cycle: .*14 -> 15 -> 14|^links form a cycle: .*15 -> 14 -> 15/),
    ]);
  });

  it('reports bindings to a missing node, a missing input and a link', () => {
    // Prepare
    const workflow = copy();
    workflow.bindings.bindings.width = [{ node: '77', input: 'width' }];
    workflow.bindings.bindings.height = [{ node: '13', input: 'hieght' }];
    workflow.bindings.bindings.seed = [{ node: '14', input: 'model' }];

    // Act + Assess
    expect(structureProblems(workflow.template, workflow.bindings)).toEqual([
      'binding width binds missing node 77',
      'binding height binds node 13 (WanFirstLastFrameToVideo) input hieght, which it lacks',
      'binding seed binds node 14 input model, which is a link, not a value',
    ]);
  });

  it('reports a missing output node, a bypass that cannot pass frames through, and an unused model', () => {
    // Prepare
    const workflow = copy();
    workflow.bindings.output = { node: '42' };
    node(workflow, '17').inputs.frames = 'not a link';
    workflow.bindings.models.push({ file: 'unused.safetensors', folder: 'models/loras' });

    // Act + Assess
    expect(structureProblems(workflow.template, workflow.bindings)).toEqual([
      'output node 42 is missing',
      'interpolation node 17 input frames is not a link',
      'model unused.safetensors is listed but no node loads it',
    ]);
  });
});

describe('objectInfoProblems', () => {
  it('finds none in the default workflow against the node definitions of the pinned ComfyUI', () => {
    // Act + Assess
    expect(
      objectInfoProblems(defaultWorkflow.template, objectInfo, boundInputs(defaultWorkflow.bindings)),
    ).toEqual([]);
  });

  it('reports a node class ComfyUI lacks, such as a custom node pack that is not installed', () => {
    // Prepare
    const { 'RIFE VFI': _, ...withoutRife } = objectInfo;

    // Act + Assess
    expect(
      objectInfoProblems(defaultWorkflow.template, withoutRife, boundInputs(defaultWorkflow.bindings)),
    ).toEqual(['node 17 (RIFE VFI): ComfyUI has no node class RIFE VFI; is its custom node pack installed?']);
  });

  it('reports missing required inputs and inputs ComfyUI does not know', () => {
    // Prepare
    const workflow = copy();
    delete node(workflow, '17').inputs.torch_compile;
    node(workflow, '17').inputs.precision = 'fp16';

    // Act + Assess
    expect(objectInfoProblems(workflow.template, objectInfo, boundInputs(workflow.bindings))).toEqual([
      'node 17 (RIFE VFI): required input torch_compile is missing',
      'node 17 (RIFE VFI): ComfyUI knows no input precision',
    ]);
  });

  it('reports links to an output that does not exist or has the wrong type', () => {
    // Prepare
    const workflow = copy();
    node(workflow, '15').inputs.latent_image = ['13', 3];
    node(workflow, '16').inputs.vae = ['7', 0];

    // Act + Assess
    expect(objectInfoProblems(workflow.template, objectInfo, boundInputs(workflow.bindings))).toEqual([
      'node 15 (KSamplerAdvanced) input latent_image: links to output 3 of node 13 (WanFirstLastFrameToVideo), which has 3',
      'node 16 (VAEDecode) input vae: takes VAE but node 7 output 0 is CLIP',
    ]);
  });

  it('reports a model file ComfyUI has not installed and values outside the node limits', () => {
    // Prepare
    const workflow = copy();
    node(workflow, '2').inputs.unet_name = 'wan2.2_i2v_low_noise_14B_fp16.safetensors';
    node(workflow, '17').inputs.batch_size = 65;
    node(workflow, '17').inputs.dtype = 'fp8';
    node(workflow, '5').inputs.shift = 'five';

    // Act
    const problems = objectInfoProblems(workflow.template, objectInfo, boundInputs(workflow.bindings));

    // Assess
    expect(problems).toEqual([
      'node 2 (UNETLoader) input unet_name: "wan2.2_i2v_low_noise_14B_fp16.safetensors" is not one of wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors, wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors',
      'node 5 (ModelSamplingSD3) input shift: "five" is not a number',
      'node 17 (RIFE VFI) input dtype: "fp8" is not one of float32, float16, bfloat16',
      'node 17 (RIFE VFI) input batch_size: 65 is above the maximum 64',
    ]);
  });

  it('does not check the value of an input a binding sets at render time', () => {
    // Prepare: LoadImage's list holds only what was uploaded, and nothing is yet
    const skip = new Set(['11:image']);

    // Act
    const problems = objectInfoProblems(defaultWorkflow.template, objectInfo, skip);

    // Assess
    expect(problems).toEqual([
      'node 12 (LoadImage) input image: "end.png" is not one of (nothing installed)',
    ]);
  });
});

describe('validateWorkflow', () => {
  it('throws WORKFLOW_INVALID listing every problem', () => {
    // Prepare
    const workflow = copy();
    node(workflow, '16').inputs.samples = ['99', 0];
    workflow.bindings.output = { node: '42' };

    // Act
    const validate = () => validateWorkflow(workflow, objectInfo);

    // Assess
    expect(validate).toThrow(
      expect.objectContaining({
        code: 'WORKFLOW_INVALID',
        details: {
          workflow: 'wan22-flf2v-rife',
          problems: [
            'node 16 (VAEDecode) input samples links to missing node 99',
            'output node 42 is missing',
          ],
        },
      }),
    );
  });

  it('accepts the default workflow against the node definitions of the pinned ComfyUI', () => {
    // Act + Assess
    expect(() => validateWorkflow(defaultWorkflow, objectInfo)).not.toThrow();
  });
});
