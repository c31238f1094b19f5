import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../contracts/image-header.js';
import { makeImage } from '../support/images.js';

describe('inspectImage', () => {
  it.each(['png', 'jpeg', 'webp'] as const)('reads format and size of a real %s', async (format) => {
    const bytes = await makeImage(320, 200, format);
    expect(inspectImage(bytes)).toEqual({ format, width: 320, height: 200 });
  });

  it('inspects a large file from its first bytes and its tail alone', async () => {
    const bytes = await makeImage(1200, 900, 'png');
    const head = bytes.subarray(0, 4096);
    const tail = bytes.subarray(bytes.length - 64);
    expect(inspectImage(head, { totalSize: bytes.length, tail })).toEqual({
      format: 'png',
      width: 1200,
      height: 900,
    });
  });
});
