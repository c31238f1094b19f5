/**
 * One way to bundle Heritage code into ESM files that run on Node 22 alone: the worker for the image
 * (build.ts) and the provisioning benchmark for a machine without the repository (bench/bundle.ts).
 */
import { build } from 'esbuild';

export interface NodeBundle {
  /** Output name (without .mjs) → source file. */
  entryPoints: Record<string, string>;
  outdir: string;
  /** Packages left to node_modules at run time. */
  external?: string[];
}

export async function bundleForNode(bundle: NodeBundle): Promise<void> {
  await build({
    entryPoints: bundle.entryPoints,
    outdir: bundle.outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: true,
    external: bundle.external ?? [],
    // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __heritageRequire } from 'node:module';\nconst require = __heritageRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
