/** The real import graph of an entry point, from esbuild's metafile: the files it reaches and its packages. */
import { build } from 'esbuild';

export interface ImportGraph {
  files: string[];
  packages: string[];
}

export async function importGraph(entry: string): Promise<ImportGraph> {
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
