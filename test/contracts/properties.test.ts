/** Properties over generated input: what parses is in range; everything else is a HeritageError with a code. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HeritageError } from '../../contracts/errors.js';
import { computeGeometry } from '../../contracts/geometry.js';
import { IMAGE_LIMITS, inspectImage } from '../../contracts/image-header.js';
import {
  FRAME_LENGTH,
  parseManifest,
  RESOLUTIONS,
  resolveSeed,
  SEED_MAX,
  STEPS,
} from '../../contracts/manifest.js';

const nearlyValid = fc.record(
  {
    version: fc.oneof(fc.constant(1), fc.integer({ min: -2, max: 3 })),
    steps: fc.oneof(fc.integer({ min: 0, max: 25 }), fc.double(), fc.string()),
    resolution: fc.oneof(fc.constantFrom(...RESOLUTIONS), fc.integer({ min: 0, max: 2000 })),
    frame_length: fc.integer({ min: 0, max: 140 }),
    seed: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.nat(), fc.constant(2 ** 40), fc.maxSafeNat()),
    interpolation: fc.integer({ min: 0, max: 5 }),
    video: fc.oneof(fc.boolean(), fc.string()),
    start_image: fc.oneof(fc.constant('start.png'), fc.string({ maxLength: 20 })),
    positive_prompt: fc.string({ maxLength: 2100 }),
    client_reference: fc.string({ maxLength: 300 }),
  },
  { requiredKeys: [] },
);

/** Sometimes one or two extra keys, often typos of real ones. */
const extraKeys = fc.dictionary(
  fc.oneof(fc.constantFrom('stpes', 'seeds', 'frame_lenght', 'Resolution'), fc.string({ maxLength: 12 })),
  fc.jsonValue(),
  { maxKeys: 2 },
);

const anyManifest = fc.oneof(
  nearlyValid,
  fc.tuple(nearlyValid, extraKeys).map(([fields, extra]) => ({ ...extra, ...fields })),
  fc.jsonValue(),
  fc.record({ input: fc.jsonValue() }),
);

function expectHeritageError(error: unknown): void {
  expect(error).toBeInstanceOf(HeritageError);
  expect(ERROR_CODES).toContain((error as HeritageError).code);
}

describe('manifest properties', () => {
  it('yields an in-range request with valid geometry, or a HeritageError', () => {
    fc.assert(
      fc.property(
        anyManifest,
        fc.integer({ min: IMAGE_LIMITS.minSide, max: IMAGE_LIMITS.maxSide }),
        fc.integer({ min: IMAGE_LIMITS.minSide, max: IMAGE_LIMITS.maxSide }),
        (value, width, height) => {
          let parsed: ReturnType<typeof parseManifest>;
          try {
            parsed = parseManifest(JSON.stringify(value) ?? 'undefined');
          } catch (error) {
            expectHeritageError(error);
            return;
          }
          const m = resolveSeed(parsed.manifest);
          expect(m.steps).toBeGreaterThanOrEqual(STEPS.min);
          expect(m.steps).toBeLessThanOrEqual(STEPS.max);
          expect(RESOLUTIONS).toContain(m.resolution);
          expect(m.frame_length).toBeGreaterThanOrEqual(FRAME_LENGTH.min);
          expect(m.frame_length).toBeLessThanOrEqual(FRAME_LENGTH.max);
          expect((m.frame_length - 1) % 4).toBe(0);
          expect(m.seed).toBeGreaterThanOrEqual(1);
          expect(m.seed).toBeLessThanOrEqual(SEED_MAX);
          expect([1, 2, 4]).toContain(m.interpolation);
          expect(m.start_image).not.toMatch(/\/|\.\./);
          try {
            const g = computeGeometry({ width, height }, m);
            expect(g.width % 16).toBe(0);
            expect(g.height % 16).toBe(0);
            expect(Math.min(g.width, g.height)).toBe(Math.round(m.resolution / 16) * 16);
            expect(Math.abs(g.width / g.height - width / height)).toBeLessThan(0.1 * (width / height));
            expect(g.frames).toBe((m.frame_length - 1) * m.interpolation + 1);
            expect(g.fps).toBe(16 * m.interpolation);
          } catch (error) {
            expectHeritageError(error);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('image header properties', () => {
  it('yields an in-limit image or a HeritageError for arbitrary bytes', () => {
    const pngPrefix = fc.constant(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const prefixes = fc.oneof(
      pngPrefix,
      fc.constant(new Uint8Array([0xff, 0xd8, 0xff])),
      fc.constant(new TextEncoder().encode('RIFF\u0000\u0001\u0000\u0000WEBPVP8X')),
      fc.constant(new Uint8Array()),
    );
    fc.assert(
      fc.property(prefixes, fc.uint8Array({ maxLength: 600 }), (prefix, rest) => {
        const bytes = new Uint8Array([...prefix, ...rest]);
        try {
          const info = inspectImage(bytes);
          expect(info.width).toBeGreaterThanOrEqual(IMAGE_LIMITS.minSide);
          expect(info.width * info.height).toBeLessThanOrEqual(IMAGE_LIMITS.maxPixels);
        } catch (error) {
          expectHeritageError(error);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
