/** The real import graph of an entry point, from esbuild's metafile: the files it reaches and its packages. */
import { build } from 'esbuild';

export interface ImportGraph {
  files: string[];
  packages: string[];
  /** Each file's imports of other files (type-only imports are gone: esbuild erases them). */
  edges: Record<string, string[]>;
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
  const edges = Object.fromEntries(
    Object.entries(result.metafile.inputs).map(([file, input]) => [
      file,
      input.imports.filter((imported) => !imported.external).map((imported) => imported.path),
    ]),
  );
  return {
    files: Object.keys(result.metafile.inputs),
    packages: [...new Set(imports.filter((imported) => imported.external).map((imported) => imported.path))],
    edges,
  };
}

/** The import cycles among `files` (strongly connected components of more than one file, sorted). */
export function importCycles(graph: ImportGraph, within: (file: string) => boolean): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of (graph.edges[file] ?? []).filter(within)) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (;;) {
      const member = stack.pop() ?? file;
      onStack.delete(member);
      component.push(member);
      if (member === file) break;
    }
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const file of graph.files.filter(within)) if (!index.has(file)) visit(file);
  return cycles;
}
