import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NEGATIVE_PROMPT,
  nearestValidFrameLengths,
  parseManifest,
  resolveSeed,
  SEED_MAX,
} from '../../contracts/manifest.js';
import { makeImage } from '../../local/testkit/images.js';

describe('manifest v1', () => {
  it('applies every default to an empty manifest', () => {
    const { manifest, format } = parseManifest('{}');

    expect(format).toBe('v1');
    expect(manifest).toEqual({
      version: 1,
      start_image: 'start.png',
      end_image: 'end.png',
      positive_prompt: '',
      negative_prompt: DEFAULT_NEGATIVE_PROMPT,
      steps: 8,
      resolution: 640,
      frame_length: 65,
      seed: 0,
      interpolation: 2,
      video: true,
    });
  });

  it('keeps the values a client sets', () => {
    const { manifest } = parseManifest(
      JSON.stringify({
        start_image: 'a.jpg',
        end_image: 'b.webp',
        steps: 20,
        resolution: 1080,
        frame_length: 129,
        seed: 7,
        interpolation: 4,
        video: false,
        client_reference: 'order-17',
      }),
    );

    expect(manifest).toMatchObject({ start_image: 'a.jpg', steps: 20, resolution: 1080, frame_length: 129 });
    expect(manifest).toMatchObject({ seed: 7, interpolation: 4, video: false, client_reference: 'order-17' });
  });

  it('names the nearest valid frame lengths', () => {
    expect(nearestValidFrameLengths(66)).toEqual([65, 69]);
    expect(nearestValidFrameLengths(65)).toEqual([65]);
    expect(nearestValidFrameLengths(2)).toEqual([17]);
    expect(nearestValidFrameLengths(500)).toEqual([129]);
  });
});

describe('legacy RunPod body', () => {
  it('parses to the same normalized request as the equivalent v1 manifest', async () => {
    const start = await makeImage(128, 96, 'png');
    const end = await makeImage(128, 96, 'jpeg', 30);
    const fields = { positive_prompt: 'a cat jumps', steps: 6, resolution: 480, frame_length: 33, seed: 99 };

    const legacy = parseManifest(
      JSON.stringify({
        input: {
          ...fields,
          start_image_base64: `data:image/png;base64,${start.toString('base64')}`,
          end_image_base64: end.toString('base64'),
        },
      }),
    );
    const v1 = parseManifest(JSON.stringify(fields));

    expect(legacy.format).toBe('runpod');
    expect(legacy.manifest).toEqual(v1.manifest);
    expect(Buffer.from(legacy.inlineImages?.start ?? [])).toEqual(start);
    expect(Buffer.from(legacy.inlineImages?.end ?? [])).toEqual(end);
  });
});

describe('seed resolution', () => {
  it('replaces seed 0 with a random 32-bit seed', () => {
    const { manifest } = parseManifest('{}');
    const seeds = new Set(Array.from({ length: 20 }, () => resolveSeed(manifest).seed));

    for (const seed of seeds) {
      expect(seed).toBeGreaterThanOrEqual(1);
      expect(seed).toBeLessThanOrEqual(SEED_MAX);
    }
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('keeps a seed the client chose', () => {
    const { manifest } = parseManifest('{"seed": 123}');
    expect(resolveSeed(manifest, () => 5).seed).toBe(123);
  });
});
