/** Uploads a prepared submission: the images, then the manifest, whose creation starts the pipeline. */
import type { ObjectStore } from '../../contracts/ports.js';
import type { Submission } from './prepare-submission.js';

export async function uploadSubmission(
  store: ObjectStore,
  submission: Submission,
  onProgress: (sentBytes: number, totalBytes: number) => void = () => {},
): Promise<{ bytes: number }> {
  const total = submission.objects.reduce((sum, object) => sum + object.body.byteLength, 0);
  let sent = 0;
  onProgress(sent, total);
  for (const object of submission.objects) {
    await store.put(object.key, object.body, { contentType: object.contentType });
    sent += object.body.byteLength;
    onProgress(sent, total);
  }
  return { bytes: total };
}
