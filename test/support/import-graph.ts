/**
 * The real import graph of entry points, from esbuild's metafile: the files they reach and their
 * packages. And, because esbuild erases type-only imports, the imports each file declares in its source.
 */
import { readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { build } from 'esbuild';

export interface ImportGraph {
  files: string[];
  packages: string[];
  /** Each file's imports of other files (type-only imports are gone: esbuild erases them). */
  edges: Record<string, string[]>;
}

export async function importGraph(entry: string | string[]): Promise<ImportGraph> {
  const result = await build({
    entryPoints: typeof entry === 'string' ? [entry] : entry,
    bundle: true,
    write: false,
    outdir: 'out/import-graph',
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

/** Every TypeScript file under `folder`, as repository paths. */
export async function sourcesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => `${entry.parentPath}/${entry.name}`.replace(/^\.\//, ''))
    .sort();
}

const IMPORT_SPECIFIER =
  /\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g;

/**
 * The repository files that `file` names in its import and export statements, type-only ones
 * included, as repository paths (`.js` read as the `.ts` it stands for). Packages are left out.
 */
export async function declaredImports(file: string): Promise<string[]> {
  const source = await readFile(file, 'utf8');
  const specifiers = [...source.matchAll(IMPORT_SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
  return specifiers
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => posix.join(posix.dirname(file), specifier).replace(/\.js$/, '.ts'));
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
