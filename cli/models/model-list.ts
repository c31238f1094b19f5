/**
 * Reads and updates the model manifest file (gpu-container/models.json, contracts/model-manifest.ts). Updating keeps every other
 * field as it is and only fills in a sha256 or a size that was unknown.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type ModelManifest, ModelManifestSchema } from '../../contracts/model-manifest.js';

export async function readModelList(path: string): Promise<ModelManifest> {
  return ModelManifestSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

export interface LearnedChecksum {
  folder: string;
  name: string;
  sha256: string;
  bytes: number;
}

/** Writes learned checksums and sizes into the fields that were null; returns how many it filled. */
export async function recordChecksums(path: string, learned: readonly LearnedChecksum[]): Promise<number> {
  const document = JSON.parse(await readFile(path, 'utf8')) as {
    models: Array<{ folder: string; name: string; sha256: string | null; bytes: number | null }>;
  };
  let filled = 0;
  for (const entry of document.models) {
    const found = learned.find((item) => item.folder === entry.folder && item.name === entry.name);
    if (found === undefined) continue;
    if (entry.sha256 === null) {
      entry.sha256 = found.sha256;
      filled += 1;
    }
    if (entry.bytes === null) {
      entry.bytes = found.bytes;
      filled += 1;
    }
  }
  if (filled > 0) await writeFile(path, `${JSON.stringify(document, null, 2)}\n`);
  return filled;
}
