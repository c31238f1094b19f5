/**
 * The dependency rule, checked on the real import graph (esbuild's metafile): contracts import no
 * AWS SDK, no adapter and no deployable; domain code reaches AWS only through ports.
 */
import { describe, expect, it } from 'vitest';
import { importGraph } from '../support/import-graph.js';

describe('architecture boundaries', () => {
  it('keeps contracts free of the AWS SDK and of every adapter and deployable', async () => {
    const { files, packages } = await importGraph('contracts/index.ts');

    expect(
      packages.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@aws-lambda-powertools/')),
    ).toEqual([]);
    expect(files.filter((f) => !f.startsWith('contracts/'))).toEqual([]);
  });

  it('keeps the status store on the ObjectStore port, not on S3', async () => {
    const { packages } = await importGraph('contracts/lifecycle/status-store.ts');
    expect(packages.filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
