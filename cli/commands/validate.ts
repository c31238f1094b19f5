/**
 * heritage validate <manifest>: checks a manifest offline with the code dispatch runs, so it reports the
 * same error codes. Images named by the manifest are checked too when they sit next to it; a legacy body's
 * inline images always are.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ManifestMissingError } from '../../contracts/errors.js';
import { computeGeometry } from '../../contracts/geometry.js';
import { type ImageInfo, inspectImage } from '../../contracts/image-header.js';
import { parseManifest } from '../../contracts/manifest.js';
import { COMMON_OPTIONS, parseCommand } from '../args.js';
import { createOutput } from '../output.js';

export const VALIDATE_USAGE = `heritage validate <manifest.json>
  exit 0 when valid, 3 with the error code dispatch would report (e.g. MANIFEST_INVALID) when not`;

async function readIfPresent(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function validate(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('validate', args, COMMON_OPTIONS, {
    min: 1,
    max: 1,
    names: '<manifest.json>',
  });
  const out = createOutput(values.json === true, 'validate');
  if (values.help === true) return out.help(VALIDATE_USAGE);
  const path = positionals[0] ?? '';
  const bytes = await readIfPresent(path);
  if (bytes === undefined) throw new ManifestMissingError(`${path} does not exist`);
  const parsed = parseManifest(bytes);
  const { manifest } = parsed;

  const images: Record<'start' | 'end', ImageInfo | undefined> = { start: undefined, end: undefined };
  const unchecked: string[] = [];
  for (const which of ['start', 'end'] as const) {
    const label = `${which} image`;
    const inline = parsed.inlineImages?.[which];
    const name = which === 'start' ? manifest.start_image : manifest.end_image;
    const image = inline ?? (await readIfPresent(join(dirname(path), name)));
    if (image === undefined) unchecked.push(name);
    else images[which] = inspectImage(image, { label });
  }
  const geometry = images.start === undefined ? undefined : computeGeometry(images.start, manifest);

  const lines = [`${path}: valid ${parsed.format === 'v1' ? 'v1 manifest' : 'legacy request body'}`];
  if (geometry !== undefined) {
    lines.push(
      `  output: ${geometry.frames} frames of ${geometry.width}x${geometry.height} at ${geometry.fps} fps`,
    );
  }
  if (unchecked.length > 0) lines.push(`  not checked (not next to the manifest): ${unchecked.join(', ')}`);
  out.result(
    {
      valid: true,
      format: parsed.format,
      manifest,
      images,
      geometry: geometry ?? null,
      unchecked_images: unchecked,
    },
    lines,
  );
}
