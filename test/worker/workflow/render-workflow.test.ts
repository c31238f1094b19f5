import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeGeometry } from '../../../contracts/geometry.js';
import type { ObjectInfo } from '../../../gpu-container/worker/engines/comfy/comfy-messages.js';
import {
  loadWorkflow,
  type Workflow,
} from '../../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';
import {
  type RenderParameters,
  renderWorkflow,
  splitStep,
} from '../../../gpu-container/worker/engines/comfy/workflow/render-workflow.js';
import { objectInfoProblems } from '../../../gpu-container/worker/engines/comfy/workflow/validate-workflow.js';

const objectInfo = JSON.parse(
  readFileSync(
    new URL('../../fixtures/comfyui/object_info.derived-from-source.json', import.meta.url),
    'utf8',
  ),
) as ObjectInfo;

/** The edges of every manifest range (design §3), after geometry and seed resolution. */
const STEPS = [4, 5, 20];
const LENGTHS = [17, 129];
const MULTIPLIERS = [1, 2, 4];
const SIZES = [480, 1080].flatMap((resolution) =>
  [
    { width: 1920, height: 1080 },
    { width: 1080, height: 1920 },
  ].map((image) => {
    const { width, height } = computeGeometry(image, { resolution, frame_length: 17, interpolation: 1 });
    return { width, height };
  }),
);
const SEEDS = [1, Number.MAX_SAFE_INTEGER];

function parameters(overrides: Partial<RenderParameters> = {}): RenderParameters {
  return {
    width: 832,
    height: 480,
    length: 65,
    steps: 8,
    seed: 123,
    positive: 'a lighthouse at dusk',
    negative: 'blurry',
    startImageName: 'req-7/start.png',
    endImageName: 'req-7/end.png',
    multiplier: 2,
    filenamePrefix: 'heritage/req-7/frame',
    ...overrides,
  };
}

const combinations = STEPS.flatMap((steps) =>
  LENGTHS.flatMap((length) =>
    MULTIPLIERS.flatMap((multiplier) =>
      SIZES.flatMap((size) => SEEDS.map((seed) => ({ steps, length, multiplier, seed, ...size }))),
    ),
  ),
);

describe('renderWorkflow with the default Wan2.2 FLF2V + RIFE workflow', () => {
  let workflow: Workflow;
  beforeAll(async () => {
    workflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });
  });

  it.each(combinations)(
    'binds steps=$steps length=$length multiplier=$multiplier $width x $height seed=$seed',
    ({ steps, length, multiplier, seed, width, height }) => {
      // Prepare
      const values = parameters({ steps, length, multiplier, seed, width, height });
      const split = Math.floor(steps / 2);

      // Act
      const prompt = renderWorkflow(workflow, values);

      // Assess: node ids (RIFE is bypassed at multiplier 1)
      const expectedIds = Object.keys(workflow.template).filter((id) => multiplier !== 1 || id !== '17');
      expect(Object.keys(prompt)).toEqual(expectedIds);
      // links: the sampler chain and the frames path
      expect(prompt['14']?.inputs).toMatchObject({ model: ['5', 0], latent_image: ['13', 2] });
      expect(prompt['15']?.inputs).toMatchObject({ model: ['6', 0], latent_image: ['14', 0] });
      expect(prompt['18']?.inputs.images).toEqual(multiplier === 1 ? ['16', 0] : ['17', 0]);
      if (multiplier !== 1) expect(prompt['17']?.inputs).toMatchObject({ frames: ['16', 0], multiplier });
      // bound values
      expect(prompt['13']?.inputs).toMatchObject({
        width,
        height,
        length,
        start_image: ['11', 0],
        end_image: ['12', 0],
      });
      expect(prompt['14']?.inputs).toMatchObject({
        steps,
        noise_seed: seed,
        add_noise: 'enable',
        start_at_step: 0,
        end_at_step: split,
        return_with_leftover_noise: 'enable',
      });
      expect(prompt['15']?.inputs).toMatchObject({
        steps,
        noise_seed: seed,
        add_noise: 'disable',
        start_at_step: split,
        return_with_leftover_noise: 'disable',
      });
      expect(prompt['8']?.inputs.text).toBe(values.positive);
      expect(prompt['9']?.inputs.text).toBe(values.negative);
      expect(prompt['11']?.inputs.image).toBe(values.startImageName);
      expect(prompt['12']?.inputs.image).toBe(values.endImageName);
      expect(prompt['18']?.inputs.filename_prefix).toBe(values.filenamePrefix);
      // and every value stays inside what the nodes accept
      expect(objectInfoProblems(prompt, objectInfo, new Set(['11:image', '12:image']))).toEqual([]);
    },
  );

  it('sends every required RIFE VFI input with the rife47 checkpoint', () => {
    // Act
    const prompt = renderWorkflow(workflow, parameters({ multiplier: 4 }));

    // Assess
    expect(Object.keys(prompt['17']?.inputs ?? {}).sort()).toEqual(
      Object.keys(objectInfo['RIFE VFI']?.input.required ?? {}).sort(),
    );
    expect(prompt['17']?.inputs.ckpt_name).toBe('rife47.pth');
  });

  it('uses the native Wan2.2 nodes: two fp8 experts with the lightx2v LoRAs, shift 5, umt5 as a wan CLIP', () => {
    // Act
    const prompt = renderWorkflow(workflow, parameters());

    // Assess
    const byClass = (classType: string) =>
      Object.values(prompt).filter((node) => node.class_type === classType);
    expect(byClass('UNETLoader').map((node) => node.inputs.unet_name)).toEqual([
      'wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors',
      'wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors',
    ]);
    expect(byClass('LoraLoaderModelOnly').map((node) => node.inputs.lora_name)).toEqual([
      'wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors',
      'wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors',
    ]);
    expect(byClass('ModelSamplingSD3').map((node) => node.inputs.shift)).toEqual([5, 5]);
    expect(byClass('CLIPLoader')[0]?.inputs).toMatchObject({
      clip_name: 'umt5_xxl_fp8_e4m3fn_scaled.safetensors',
      type: 'wan',
    });
    expect(
      byClass('KSamplerAdvanced').map(({ inputs }) => [inputs.cfg, inputs.sampler_name, inputs.scheduler]),
    ).toEqual([
      [1, 'euler', 'simple'],
      [1, 'euler', 'simple'],
    ]);
  });

  it('leaves the loaded template untouched', () => {
    // Prepare
    const before = structuredClone(workflow.template);

    // Act
    renderWorkflow(workflow, parameters({ multiplier: 1, steps: 20 }));

    // Assess
    expect(workflow.template).toEqual(before);
  });

  it('refuses a multiplier the workflow cannot produce', () => {
    // Prepare
    const { multiplier: _, ...bindings } = workflow.bindings.bindings;
    const withoutInterpolation: Workflow = {
      ...workflow,
      bindings: { ...workflow.bindings, bindings, interpolation: undefined },
    };

    // Act
    const render = () => renderWorkflow(withoutInterpolation, parameters({ multiplier: 2 }));

    // Assess
    expect(render).toThrow(expect.objectContaining({ code: 'WORKFLOW_INVALID' }));
  });
});

describe('splitStep', () => {
  it.each([
    [4, 0.5, 2],
    [5, 0.5, 2],
    [20, 0.5, 10],
    [2, 0.5, 1],
    [4, 0.1, 1],
    [4, 0.9, 3],
  ])(
    'splits %i steps at ratio %d into step %i, leaving each expert at least one step',
    (steps, ratio, split) => {
      // Act + Assess
      expect(splitStep(steps, ratio)).toBe(split);
    },
  );
});
