/** Request factories: a client's uploads (images, then the manifest) into the emulator's bucket. */
import type { ManifestInput } from '../../contracts/manifest.js';
import type { ObjectStore } from '../../contracts/ports.js';
import { type Format, makeImage } from './images.js';

const cache = new Map<string, Buffer>();

/** A valid image, encoded once per size and format. */
export async function sampleImage(
  width = 160,
  height = 96,
  format: Format = 'png',
  shift = 0,
): Promise<Buffer> {
  const id = `${width}x${height}.${format}.${shift}`;
  let image = cache.get(id);
  if (image === undefined) {
    image = await makeImage(width, height, format, shift);
    cache.set(id, image);
  }
  return image;
}

export async function putImages(
  objects: ObjectStore,
  requestId: string,
  names = ['start.png', 'end.png'],
): Promise<void> {
  const [start, end] = await Promise.all([sampleImage(), sampleImage(160, 96, 'png', 40)]);
  await Promise.all([
    objects.put(`inbox/${requestId}/${names[0]}`, start, { contentType: 'image/png' }),
    objects.put(`inbox/${requestId}/${names[1]}`, end, { contentType: 'image/png' }),
  ]);
}

export async function putManifest(
  objects: ObjectStore,
  requestId: string,
  manifest: ManifestInput | Record<string, unknown> | string = {},
): Promise<string> {
  const key = `inbox/${requestId}/manifest.json`;
  await objects.put(key, typeof manifest === 'string' ? manifest : JSON.stringify(manifest), {
    contentType: 'application/json',
  });
  return key;
}

/** Uploads both images, then the manifest, the way a client must. Returns the manifest key. */
export async function putRequest(
  objects: ObjectStore,
  requestId: string,
  manifest: ManifestInput | Record<string, unknown> = {},
): Promise<string> {
  await putImages(objects, requestId);
  return putManifest(objects, requestId, manifest);
}
