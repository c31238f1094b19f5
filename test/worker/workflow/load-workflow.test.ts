import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultWorkflowsDir,
  loadWorkflow,
  workflowRecord,
} from '../../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';
import { renderWorkflow } from '../../../gpu-container/worker/engines/comfy/workflow/render-workflow.js';
import { rejection } from '../comfy/client-contract.js';

describe('loadWorkflow', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'heritage-workflows-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** An operator's workflow: the default one with a finetuned low-noise expert and no interpolation. */
  async function addFinetune(name: string) {
    await cp(join(defaultWorkflowsDir(), 'wan22-flf2v-rife'), join(root, name), { recursive: true });
    const templatePath = join(root, name, 'workflow.json');
    const template = JSON.parse(await readFile(templatePath, 'utf8'));
    template['2'].inputs.unet_name = 'my_finetune_low_noise.safetensors';
    template['18'].inputs.images = ['16', 0];
    delete template['17'];
    await writeFile(templatePath, JSON.stringify(template));
    const bindingsPath = join(root, name, 'bindings.json');
    const bindings = JSON.parse(await readFile(bindingsPath, 'utf8'));
    bindings.name = name;
    bindings.models = bindings.models
      .filter((model: { file: string }) => model.file !== 'rife47.pth')
      .map((model: { file: string; folder: string }) =>
        model.file.startsWith('wan2.2_i2v_low_noise')
          ? { ...model, file: 'my_finetune_low_noise.safetensors' }
          : model,
      );
    delete bindings.bindings.multiplier;
    delete bindings.interpolation;
    await writeFile(bindingsPath, JSON.stringify(bindings));
  }

  it('loads a workflow an operator added as a folder, with no code change', async () => {
    // Prepare
    await addFinetune('my-finetune');

    // Act
    const workflow = await loadWorkflow({ name: 'my-finetune', root });
    const prompt = renderWorkflow(workflow, {
      width: 832,
      height: 480,
      length: 33,
      steps: 6,
      seed: 5,
      positive: 'p',
      negative: 'n',
      startImageName: 's.png',
      endImageName: 'e.png',
      multiplier: 1,
      filenamePrefix: 'out/x',
    });

    // Assess
    expect(workflowRecord(workflow).name).toBe('my-finetune');
    expect(workflow.bindings.models.map((model) => model.file)).toContain(
      'my_finetune_low_noise.safetensors',
    );
    expect(prompt['2']?.inputs.unet_name).toBe('my_finetune_low_noise.safetensors');
    expect(prompt['13']?.inputs.length).toBe(33);
  });

  it('records a sha256 that changes when the template changes', async () => {
    // Prepare
    await addFinetune('a');
    const before = await loadWorkflow({ name: 'a', root });
    const templatePath = join(root, 'a', 'workflow.json');
    const template = JSON.parse(await readFile(templatePath, 'utf8'));
    template['3'].inputs.strength_model = 0.8;
    await writeFile(templatePath, JSON.stringify(template));

    // Act
    const after = await loadWorkflow({ name: 'a', root });

    // Assess
    expect(workflowRecord(after).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(workflowRecord(after).sha256).not.toBe(workflowRecord(before).sha256);
  });

  it('names the file that is not JSON', async () => {
    // Prepare
    await addFinetune('broken');
    await writeFile(join(root, 'broken', 'bindings.json'), '{ "name": ');

    // Act
    const error = await rejection(loadWorkflow({ name: 'broken', root }));

    // Assess
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.message).toMatch(/^bindings\.json is not JSON/);
  });

  it('lists schema problems of bindings.json with their paths', async () => {
    // Prepare
    await addFinetune('typo');
    const bindingsPath = join(root, 'typo', 'bindings.json');
    const bindings = JSON.parse(await readFile(bindingsPath, 'utf8'));
    bindings.bindings.widht = bindings.bindings.width;
    delete bindings.bindings.width;
    await writeFile(bindingsPath, JSON.stringify(bindings));

    // Act
    const error = await rejection(loadWorkflow({ name: 'typo', root }));

    // Assess
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.details?.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^bindings\.width: /), expect.stringMatching(/widht/)]),
    );
  });

  it('refuses a folder whose bindings name another workflow', async () => {
    // Prepare
    await addFinetune('named');
    await cp(join(root, 'named'), join(root, 'renamed'), { recursive: true });

    // Act
    const error = await rejection(loadWorkflow({ name: 'renamed', root }));

    // Assess
    expect(error.message).toBe('bindings.json names workflow named but lives in folder renamed');
  });

  it('refuses a workflow that does not exist', async () => {
    // Act
    const error = await rejection(loadWorkflow({ name: 'nowhere', root }));

    // Assess
    expect(error.code).toBe('WORKFLOW_INVALID');
    expect(error.message).toContain('cannot read');
  });
});
