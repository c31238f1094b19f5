/**
 * Manifest v1 (README, "Manifest reference") and the legacy RunPod request body. Both parse to the same normalized
 * manifest, with defaults applied. Everything a client can get wrong becomes a HeritageError with a code.
 */
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { ManifestInvalidError, ManifestNotJsonError, ManifestTooLargeError } from './errors.js';
import { ImageNameSchema } from './keys.js';
import { findDuplicateKeys } from './strict-json.js';
import { closestKey } from './suggest.js';

export const STEPS = { min: 4, max: 20, default: 8 } as const;
export const RESOLUTIONS = [480, 640, 720, 1080] as const;
export const FRAME_LENGTH = { min: 17, max: 129, default: 65 } as const;
export const INTERPOLATIONS = [1, 2, 4] as const;
export const SEED_MAX = 2 ** 32 - 1;
export const PROMPT_MAX_CHARS = 2000;
export const CLIENT_REFERENCE_MAX_CHARS = 256;
/** A v1 manifest is small; only the legacy body, with inline images, may be larger. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
export const LEGACY_BODY_MAX_BYTES = 72 * 1024 * 1024;
export const DEFAULT_NEGATIVE_PROMPT =
  'blurry, low quality, distorted, deformed, jpeg artifacts, watermark, text, static frame, flicker';

/** The valid frame lengths (4n+1) closest to `value`, one or two of them. */
export function nearestValidFrameLengths(value: number): number[] {
  const clamped = Math.min(Math.max(value, FRAME_LENGTH.min), FRAME_LENGTH.max);
  const below = Math.floor((clamped - 1) / 4) * 4 + 1;
  const above = below === clamped ? below : below + 4;
  const candidates = [below, above].filter((v) => v >= FRAME_LENGTH.min && v <= FRAME_LENGTH.max);
  return [...new Set(candidates)];
}

export const VALID_FRAME_LENGTHS = Array.from(
  { length: (FRAME_LENGTH.max - FRAME_LENGTH.min) / 4 + 1 },
  (_, i) => FRAME_LENGTH.min + 4 * i,
);

const FrameLengthSchema = z
  .number()
  .int()
  .superRefine((value, ctx) => {
    const valid = value >= FRAME_LENGTH.min && value <= FRAME_LENGTH.max && (value - 1) % 4 === 0;
    if (!valid) {
      const nearest = nearestValidFrameLengths(value).join(' or ');
      ctx.addIssue({
        code: 'custom',
        message: `must be 4n+1 between ${FRAME_LENGTH.min} and ${FRAME_LENGTH.max}; nearest valid: ${nearest}`,
      });
    }
  })
  .meta({ enum: VALID_FRAME_LENGTHS })
  .describe(
    'Frames Wan generates: 4n+1 between 17 and 129. Output frames = (frame_length - 1) x interpolation + 1.',
  );

const ResolutionSchema = z
  .number()
  .int()
  .refine((v) => (RESOLUTIONS as readonly number[]).includes(v), {
    message: `must be one of ${RESOLUTIONS.join(', ')}`,
  })
  .meta({ enum: [...RESOLUTIONS] })
  .describe('Short side of the output in pixels; the long side follows the start image aspect ratio.');

/**
 * C0 control characters other than tab, line feed and carriage return, DEL, and the bidirectional
 * embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): invisible text that makes a
 * prompt read differently from what it says.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const HIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/u;

/** A free-text field without hidden characters; the message names the first one and where it is. */
function visibleText(max: number) {
  return z
    .string()
    .max(max)
    .superRefine((text, ctx) => {
      const match = HIDDEN_CHARACTER.exec(text);
      if (match === null) return;
      const code = `U+${(match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
      const kind = /[\u202A-\u202E\u2066-\u2069]/u.test(match[0])
        ? 'a bidirectional override'
        : 'a control character';
      ctx.addIssue({
        code: 'custom',
        message: `contains ${kind} (${code}) at character ${match.index + 1}; remove it`,
      });
    });
}

const generation = {
  positive_prompt: visibleText(PROMPT_MAX_CHARS)
    .default('')
    .describe('What should happen between the frames.'),
  negative_prompt: visibleText(PROMPT_MAX_CHARS)
    .default(DEFAULT_NEGATIVE_PROMPT)
    .describe('What to avoid. A sensible default applies when omitted.'),
  steps: z
    .number()
    .int()
    .min(STEPS.min)
    .max(STEPS.max)
    .default(STEPS.default)
    .describe('Sampling steps; the high-noise expert runs the first half, the low-noise expert the rest.'),
  resolution: ResolutionSchema.default(640),
  frame_length: FrameLengthSchema.default(FRAME_LENGTH.default),
  seed: z
    .number()
    .int()
    .min(0)
    .max(SEED_MAX)
    .default(0)
    .describe('0 picks a random seed; the one used is reported.'),
};

export const ManifestSchema = z
  .strictObject({
    version: z.literal(1).default(1).describe('Manifest format version.'),
    start_image: ImageNameSchema.default('start.png').describe(
      'Start frame, an object name inside inbox/<id>/.',
    ),
    end_image: ImageNameSchema.default('end.png').describe('End frame, an object name inside inbox/<id>/.'),
    ...generation,
    interpolation: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .default(2)
      .describe('RIFE frame-rate multiplier: 1 (off), 2 or 4.'),
    video: z.boolean().default(true).describe('Also write video.mp4 (H.264, fps = 16 x interpolation).'),
    client_reference: visibleText(CLIENT_REFERENCE_MAX_CHARS)
      .optional()
      .describe('Opaque string echoed back in the completion event.'),
  })
  .describe('Heritage manifest v1: inbox/<id>/manifest.json, uploaded after both images.');

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;

/** A manifest whose seed has been resolved: never 0. */
export type ResolvedManifest = Manifest & { seed: number };

const Base64ImageSchema = z
  .string()
  .min(1)
  .describe('Image bytes as base64, optionally with a data: URI prefix.');

export const LegacyRequestSchema = z
  .strictObject({
    input: z.strictObject({
      ...generation,
      start_image_base64: Base64ImageSchema,
      end_image_base64: Base64ImageSchema,
    }),
  })
  .describe('The original request body, accepted as a manifest for compatibility.');

export interface ParsedManifest {
  manifest: Manifest;
  format: 'v1' | 'runpod';
  /** Present for the legacy body, whose images travel inline. */
  inlineImages?: { start: Uint8Array; end: Uint8Array };
}

const V1_KEYS = Object.keys(ManifestSchema.shape);
const LEGACY_INPUT_KEYS = Object.keys(LegacyRequestSchema.shape.input.shape);

function describeIssues(issues: readonly z.core.$ZodIssue[], knownKeys: readonly string[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(manifest)';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = closestKey(key, knownKeys);
        lines.push(`unknown key "${key}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
      }
    } else {
      lines.push(`${where}: ${issue.message}`);
    }
  }
  return lines;
}

function invalid(lines: string[]): ManifestInvalidError {
  return new ManifestInvalidError(`manifest is invalid: ${lines.join('; ')}`, {
    details: { problems: lines },
  });
}

function decodeText(input: Uint8Array | string): string {
  if (typeof input === 'string') return input;
  if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
    throw new ManifestNotJsonError(
      'manifest starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM',
    );
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch (cause) {
    throw new ManifestNotJsonError('manifest is not valid UTF-8 text', { cause });
  }
}

const DATA_URI = /^data:image\/[a-z+.-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function decodeBase64Image(value: string, field: string): Uint8Array {
  const body = value.replace(DATA_URI, '').replace(/\s+/g, '');
  if (!BASE64.test(body) || body.length === 0) {
    throw invalid([`input.${field}: is not valid base64 (a data:image/...;base64, prefix is allowed)`]);
  }
  return new Uint8Array(Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64'));
}

/** Validates an already-parsed JSON value as a v1 manifest or a legacy body. */
export function validateManifest(value: unknown): ParsedManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(['a manifest must be a JSON object']);
  }
  if ('input' in value) {
    const parsed = LegacyRequestSchema.safeParse(value);
    if (!parsed.success) throw invalid(describeIssues(parsed.error.issues, ['input', ...LEGACY_INPUT_KEYS]));
    const { start_image_base64, end_image_base64, ...rest } = parsed.data.input;
    const manifest = ManifestSchema.parse(rest);
    return {
      manifest,
      format: 'runpod',
      inlineImages: {
        start: decodeBase64Image(start_image_base64, 'start_image_base64'),
        end: decodeBase64Image(end_image_base64, 'end_image_base64'),
      },
    };
  }
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) throw invalid(describeIssues(parsed.error.issues, V1_KEYS));
  return { manifest: parsed.data, format: 'v1' };
}

/** Parses manifest bytes (or text) as uploaded: size caps, encoding, JSON, then the schema. */
export function parseManifest(input: Uint8Array | string): ParsedManifest {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size === 0) throw new ManifestNotJsonError('manifest is empty');
  if (size > LEGACY_BODY_MAX_BYTES) {
    throw new ManifestTooLargeError(`manifest is ${size} bytes; the limit is ${MANIFEST_MAX_BYTES} bytes`, {
      details: { bytes: size, limit: MANIFEST_MAX_BYTES },
    });
  }
  const text = decodeText(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ManifestNotJsonError(`manifest is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const duplicates = findDuplicateKeys(text);
  if (duplicates.length > 0) {
    throw invalid(
      duplicates.map((path) => `${path}: appears more than once (JSON would keep only the last value)`),
    );
  }
  const isLegacy = typeof value === 'object' && value !== null && 'input' in value;
  if (!isLegacy && size > MANIFEST_MAX_BYTES) {
    throw new ManifestTooLargeError(`manifest is ${size} bytes; the limit is ${MANIFEST_MAX_BYTES} bytes`, {
      details: { bytes: size, limit: MANIFEST_MAX_BYTES },
    });
  }
  return validateManifest(value);
}

/** Resolves seed 0 to a random seed in [1, 2^32 - 1]; any other seed is kept. */
export function resolveSeed(
  manifest: Manifest,
  randomSeed: () => number = () => randomInt(1, SEED_MAX + 1),
): ResolvedManifest {
  if (manifest.seed !== 0) return manifest;
  return { ...manifest, seed: randomSeed() };
}
