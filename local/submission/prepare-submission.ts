/**
 * Everything `submit` checks before the first byte leaves the machine: the request id, the manifest
 * (same schema and messages as dispatch), both images by their headers, and the output geometry.
 */
import { randomBytes } from 'node:crypto';
import { computeGeometry, type Geometry } from '../../contracts/geometry.js';
import { type ImageFormat, inspectImage } from '../../contracts/image-header.js';
import { assertRequestId, requestKeys } from '../../contracts/keys.js';
import { type Manifest, validateManifest } from '../../contracts/manifest.js';

export interface SubmissionObject {
  key: string;
  body: Uint8Array;
  contentType: string;
}

export interface Submission {
  id: string;
  manifest: Manifest;
  geometry: Geometry;
  /** Upload order: the images first, the manifest last (its creation triggers the pipeline). */
  objects: SubmissionObject[];
}

export interface SubmissionInput {
  id?: string | undefined;
  start: Uint8Array;
  end: Uint8Array;
  /** Manifest fields other than the image names (those follow the images' formats); validated here. */
  fields: Readonly<Record<string, unknown>>;
}

const EXTENSION: Record<ImageFormat, string> = { png: 'png', jpeg: 'jpg', webp: 'webp' };
const CONTENT_TYPE: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** A sortable id that is unlikely to collide: 20261124-013015-a1b2c3. */
export function newRequestId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function prepareSubmission(input: SubmissionInput): Submission {
  const id = assertRequestId(input.id ?? newRequestId());
  const start = inspectImage(input.start, { label: 'start image' });
  const end = inspectImage(input.end, { label: 'end image' });
  const startName = `start.${EXTENSION[start.format]}`;
  const endName = `end.${EXTENSION[end.format]}`;
  const { manifest } = validateManifest({
    version: 1,
    ...input.fields,
    start_image: startName,
    end_image: endName,
  });
  const geometry = computeGeometry(start, manifest);
  const keys = requestKeys(id);
  return {
    id,
    manifest,
    geometry,
    objects: [
      { key: keys.inboxObject(startName), body: input.start, contentType: CONTENT_TYPE[start.format] },
      { key: keys.inboxObject(endName), body: input.end, contentType: CONTENT_TYPE[end.format] },
      {
        key: keys.manifest,
        body: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
        contentType: 'application/json',
      },
    ],
  };
}
