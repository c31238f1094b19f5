import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeritageError } from '../../contracts/errors.js';
import { workflowModels } from '../../gpu-container/worker/engines/comfy/managed.js';
import { loadWorkflow } from '../../gpu-container/worker/engines/comfy/workflow/load-workflow.js';

const MANIFEST = new URL('../../gpu-container/models.json', import.meta.url).pathname;

describe('the models a managed worker provisions', () => {
  it('are exactly the default workflow models, in the folders its bindings name', async () => {
    const workflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });

    const models = await workflowModels(workflow, MANIFEST);

    expect(models.map((m) => [m.name, m.folder])).toEqual(
      workflow.bindings.models.map((m) => [m.file, m.folder]),
    );
    expect(models.map((m) => m.folder)).toContain('rife');
  });

  it('refuse a workflow that loads a model the manifest does not list', async () => {
    const workflow = await loadWorkflow({ name: 'wan22-flf2v-rife' });
    const manifest = JSON.parse(await readFile(MANIFEST, 'utf8')) as { models: { name: string }[] };
    manifest.models = manifest.models.filter((m) => m.name !== 'rife47.pth');
    const path = join(await mkdtemp(join(tmpdir(), 'heritage-models-')), 'models.json');
    await writeFile(path, JSON.stringify(manifest));

    const attempt = workflowModels(workflow, path);

    await expect(attempt).rejects.toBeInstanceOf(HeritageError);
    await expect(attempt).rejects.toMatchObject({ code: 'WORKFLOW_INVALID', message: /rife47\.pth/ });
  });
});
