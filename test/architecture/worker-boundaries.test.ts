/**
 * The job runner depends on ports only: no AWS SDK, no Powertools (logs and metrics go through the
 * WorkerLog and RequestMetrics ports) and no adapter in its import graph. And the worker's rooms
 * (job/, engines/, provision/) import each other without cycles.
 */
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../support/import-graph.js';

describe('worker boundaries', () => {
  it.each([
    'gpu-container/worker/job/run-job.ts',
    'gpu-container/worker/job/worker-loop.ts',
    'gpu-container/worker/engines/comfy/comfy-engine.ts',
    'gpu-container/worker/engines/preview/preview-engine.ts',
    // The provisioner's download threads name the S3 adapter in their own entry point only.
    'gpu-container/worker/provision/provision-models.ts',
  ])('%s reaches AWS, logs and metrics only through ports', async (entry) => {
    const { files, packages } = await importGraph(entry);
    expect(
      packages.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@aws-lambda-powertools/')),
    ).toEqual([]);
    expect(files.filter((file) => file.startsWith('adapters/'))).toEqual([]);
  });

  it('has no import cycle anywhere in the worker, from its entry point', async () => {
    const graph = await importGraph('gpu-container/worker/main.ts');

    expect(importCycles(graph, (file) => file.startsWith('gpu-container/worker/'))).toEqual([]);
  });
});
