import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../contracts/image-header.js';
import { makeImage, withOrientation } from '../../local/testkit/images.js';

describe('inspectImage', () => {
  it.each(['png', 'jpeg', 'webp'] as const)('reads format and size of a real %s', async (format) => {
    const bytes = await makeImage(320, 200, format);
    expect(inspectImage(bytes)).toEqual({ format, width: 320, height: 200, orientation: 1 });
  });

  it('inspects a large file from its first bytes and its tail alone', async () => {
    const bytes = await makeImage(1200, 900, 'png');
    const head = bytes.subarray(0, 4096);
    const tail = bytes.subarray(bytes.length - 64);
    expect(inspectImage(head, { totalSize: bytes.length, tail })).toEqual({
      format: 'png',
      width: 1200,
      height: 900,
      orientation: 1,
    });
  });

  it.each(['jpeg', 'webp', 'png'] as const)(
    'reports a %s turned a quarter by its EXIF orientation at its displayed size',
    async (format) => {
      // Prepare: stored 320 wide, 200 high, with orientation 6 (displayed turned clockwise).
      const bytes = await withOrientation(await makeImage(320, 200, 'png'), format, 6);

      // Act
      const info = inspectImage(bytes);

      // Assess
      expect(info).toEqual({ format, width: 200, height: 320, orientation: 6 });
    },
  );

  it('reads a WebP orientation from the tail, where its EXIF chunk follows the image data', async () => {
    // Prepare: a WebP larger than the header probe, inspected from its first 4 KiB and its tail.
    const bytes = await withOrientation(await makeImage(1600, 1200, 'png'), 'webp', 8);
    const head = bytes.subarray(0, 4096);
    const tail = bytes.subarray(Math.max(0, bytes.length - 64 * 1024));

    // Act
    const info = inspectImage(head, { totalSize: bytes.length, tail });

    // Assess
    expect(info).toMatchObject({ width: 1200, height: 1600, orientation: 8 });
  });
});
