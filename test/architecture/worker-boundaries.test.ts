/** The job runner depends on ports only: no AWS SDK and no adapter in its import graph. */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function importGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports);
  return {
    files: Object.keys(result.metafile.inputs),
    packages: [...new Set(imports.filter((imported) => imported.external).map((imported) => imported.path))],
  };
}

describe('worker boundaries', () => {
  it.each([
    'gpu-container/worker/run-job.ts',
    'gpu-container/worker/worker-loop.ts',
    'gpu-container/worker/comfy/comfy-engine.ts',
    'gpu-container/worker/preview/preview-engine.ts',
  ])('%s reaches AWS only through ports', async (entry) => {
    const { files, packages } = await importGraph(entry);
    expect(packages.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('adapters/'))).toEqual([]);
  });
});
