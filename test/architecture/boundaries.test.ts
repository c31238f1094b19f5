/**
 * The dependency rule, checked on the real import graph (esbuild's metafile): contracts import no
 * AWS SDK, no adapter and no deployable; domain code reaches AWS only through ports.
 */
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
  const files = Object.keys(result.metafile.inputs);
  const packages = Object.values(result.metafile.inputs)
    .flatMap((input) => input.imports)
    .filter((imported) => imported.external)
    .map((imported) => imported.path);
  return { files, packages: [...new Set(packages)] };
}

describe('architecture boundaries', () => {
  it('keeps contracts free of the AWS SDK and of every adapter and deployable', async () => {
    const { files, packages } = await importGraph('contracts/index.ts');

    expect(
      packages.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@aws-lambda-powertools/')),
    ).toEqual([]);
    expect(files.filter((f) => !f.startsWith('contracts/'))).toEqual([]);
  });

  it('keeps the status store on the ObjectStore port, not on S3', async () => {
    const { packages } = await importGraph('adapters/status/object-status-store.ts');
    expect(packages.filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
