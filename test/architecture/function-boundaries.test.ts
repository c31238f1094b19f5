/** The Lambda use cases reach AWS only through ports: no SDK client in their import graph. */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function externalPackages(entry: string): Promise<string[]> {
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
  return [...new Set(imports.filter((imported) => imported.external).map((imported) => imported.path))];
}

describe('function boundaries', () => {
  it.each([
    'functions/dispatch/dispatch-request.ts',
    'functions/dispatch/process-intake.ts',
    'functions/dead-letter/fail-dead-letter.ts',
    'functions/reconcile/reconcile.ts',
    'functions/terminal-event.ts',
  ])('%s imports no AWS SDK', async (entry) => {
    const packages = await externalPackages(entry);
    expect(packages.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
