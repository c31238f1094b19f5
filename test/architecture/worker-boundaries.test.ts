/**
 * The job runner depends on ports only: no AWS SDK, no Powertools (logs and metrics go through the
 * WorkerLog and RequestMetrics ports) and no adapter in its import graph.
 */
import { describe, expect, it } from 'vitest';
import { importGraph } from '../support/import-graph.js';

describe('worker boundaries', () => {
  it.each([
    'gpu-container/worker/run-job.ts',
    'gpu-container/worker/worker-loop.ts',
    'gpu-container/worker/comfy/comfy-engine.ts',
    'gpu-container/worker/preview/preview-engine.ts',
    // The provisioner's download threads name the S3 adapter in their own entry point only.
    'gpu-container/worker/provision/provision-models.ts',
  ])('%s reaches AWS, logs and metrics only through ports', async (entry) => {
    const { files, packages } = await importGraph(entry);
    expect(
      packages.filter((name) => name.startsWith('@aws-sdk/') || name.startsWith('@aws-lambda-powertools/')),
    ).toEqual([]);
    expect(files.filter((file) => file.startsWith('adapters/'))).toEqual([]);
  });
});
