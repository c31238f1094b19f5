/**
 * The dependency rule, checked on the real import graph (esbuild's metafile): contracts import no
 * AWS SDK, no adapter and no deployable; domain code reaches AWS only through ports.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { importGraph, sourcesUnder } from '../support/import-graph.js';

describe('architecture boundaries', () => {
  it('keeps contracts free of the AWS SDK and of every adapter and deployable', async () => {
    const { files, packages } = await importGraph('contracts/index.ts');

    expect(
      packages.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@aws-lambda-powertools/')),
    ).toEqual([]);
    expect(files.filter((f) => !f.startsWith('contracts/'))).toEqual([]);
  });

  it('shows all of contracts through contracts/index.ts, so the rule above covers every file', async () => {
    const index = await readFile('contracts/index.ts', 'utf8');
    const exported = [...index.matchAll(/^export \* from '\.\/(.+)\.js';$/gm)].map(
      (m) => `contracts/${m[1]}.ts`,
    );

    const unexported = (await sourcesUnder('contracts')).filter(
      (f) => f !== 'contracts/index.ts' && !exported.includes(f),
    );
    expect(unexported).toEqual([]);
  });

  it('keeps the status store on the ObjectStore port, not on S3', async () => {
    const { packages } = await importGraph('contracts/lifecycle/status-store.ts');
    expect(packages.filter((p) => p.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
