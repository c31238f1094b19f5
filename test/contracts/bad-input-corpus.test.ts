/**
 * The bad-input corpus: every malformed manifest, request id and image we could think of, each with the
 * error code a client will see. Nothing may escape as anything but a HeritageError.
 */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, HeritageError } from '../../contracts/errors.js';
import { IMAGE_LIMITS, inspectImage } from '../../contracts/image-header.js';
import { assertRequestId, parseInboxManifestKey } from '../../contracts/keys.js';
import { parseManifest } from '../../contracts/manifest.js';
import {
  animatedPng,
  animatedWebp,
  gif,
  makeImage,
  pngWithDeclaredSize,
  pngWithOverlongChunk,
} from '../../local/testkit/images.js';

interface Case {
  name: string;
  act: () => unknown | Promise<unknown>;
  code: ErrorCode;
  /** Part of the message a client needs to fix the input. */
  says?: RegExp;
}

const manifest = (fields: Record<string, unknown>) => () => parseManifest(JSON.stringify(fields));
const legacy = (input: Record<string, unknown>) => () => parseManifest(JSON.stringify({ input }));
const tinyPngBase64 = pngWithDeclaredSize(128, 128).toString('base64');

const manifestCases: Case[] = [
  { name: 'steps as a string', act: manifest({ steps: '8' }), code: 'MANIFEST_INVALID', says: /steps/ },
  { name: 'steps below 4', act: manifest({ steps: 3 }), code: 'MANIFEST_INVALID', says: /steps/ },
  { name: 'steps above 20', act: manifest({ steps: 21 }), code: 'MANIFEST_INVALID', says: /steps/ },
  { name: 'fractional steps', act: manifest({ steps: 8.5 }), code: 'MANIFEST_INVALID', says: /steps/ },
  {
    name: 'unsupported resolution',
    act: manifest({ resolution: 500 }),
    code: 'MANIFEST_INVALID',
    says: /480, 640, 720, 1080/,
  },
  {
    name: 'resolution as a string',
    act: manifest({ resolution: '640' }),
    code: 'MANIFEST_INVALID',
    says: /resolution/,
  },
  {
    name: 'frame_length not 4n+1',
    act: manifest({ frame_length: 66 }),
    code: 'MANIFEST_INVALID',
    says: /65 or 69/,
  },
  {
    name: 'frame_length below 17',
    act: manifest({ frame_length: 13 }),
    code: 'MANIFEST_INVALID',
    says: /nearest valid: 17/,
  },
  {
    name: 'frame_length above 129',
    act: manifest({ frame_length: 133 }),
    code: 'MANIFEST_INVALID',
    says: /nearest valid: 129/,
  },
  {
    name: 'an unknown key',
    act: manifest({ flavour: 'vanilla' }),
    code: 'MANIFEST_INVALID',
    says: /unknown key "flavour"/,
  },
  {
    name: 'a typo of steps',
    act: manifest({ stpes: 8 }),
    code: 'MANIFEST_INVALID',
    says: /did you mean "steps"/,
  },
  {
    name: 'a typo of frame_length',
    act: manifest({ frame_lenght: 65 }),
    code: 'MANIFEST_INVALID',
    says: /did you mean "frame_length"/,
  },
  {
    name: 'camel-case key',
    act: manifest({ positivePrompt: 'x' }),
    code: 'MANIFEST_INVALID',
    says: /did you mean "positive_prompt"/,
  },
  {
    name: 'a UTF-8 byte-order mark',
    act: () => parseManifest(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('{}')])),
    code: 'MANIFEST_NOT_JSON',
    says: /byte-order mark/,
  },
  {
    name: 'non-UTF-8 bytes',
    act: () => parseManifest(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    code: 'MANIFEST_NOT_JSON',
    says: /UTF-8/,
  },
  {
    name: 'JSON over 1 MB',
    act: () => parseManifest(`{"positive_prompt":"x"${' '.repeat(1024 * 1024)}}`),
    code: 'MANIFEST_TOO_LARGE',
  },
  { name: 'empty manifest', act: () => parseManifest(new Uint8Array()), code: 'MANIFEST_NOT_JSON' },
  { name: 'broken JSON', act: () => parseManifest('{"steps": 8'), code: 'MANIFEST_NOT_JSON' },
  { name: 'a JSON array', act: () => parseManifest('[1,2]'), code: 'MANIFEST_INVALID', says: /JSON object/ },
  { name: 'JSON null', act: () => parseManifest('null'), code: 'MANIFEST_INVALID' },
  { name: 'a future version', act: manifest({ version: 2 }), code: 'MANIFEST_INVALID', says: /version/ },
  {
    name: 'path traversal in start_image',
    act: manifest({ start_image: '../other/start.png' }),
    code: 'MANIFEST_INVALID',
    says: /start_image/,
  },
  {
    name: 'a slash in end_image',
    act: manifest({ end_image: 'sub/end.png' }),
    code: 'MANIFEST_INVALID',
    says: /end_image/,
  },
  {
    name: 'dot-dot inside an image name',
    act: manifest({ end_image: 'a..png' }),
    code: 'MANIFEST_INVALID',
    says: /\.\./,
  },
  {
    name: 'the manifest named as an image',
    act: manifest({ start_image: 'manifest.json' }),
    code: 'MANIFEST_INVALID',
  },
  {
    name: 'an absolute path as image',
    act: manifest({ start_image: '/etc/passwd' }),
    code: 'MANIFEST_INVALID',
  },
  {
    name: 'a prompt of 10 000 characters',
    act: manifest({ positive_prompt: 'a'.repeat(10_000) }),
    code: 'MANIFEST_INVALID',
    says: /positive_prompt/,
  },
  { name: 'negative_prompt as a number', act: manifest({ negative_prompt: 5 }), code: 'MANIFEST_INVALID' },
  { name: 'seed -1', act: manifest({ seed: -1 }), code: 'MANIFEST_INVALID', says: /seed/ },
  { name: 'seed 2^40', act: manifest({ seed: 2 ** 40 }), code: 'MANIFEST_INVALID', says: /seed/ },
  {
    name: 'interpolation 3',
    act: manifest({ interpolation: 3 }),
    code: 'MANIFEST_INVALID',
    says: /interpolation/,
  },
  { name: 'video as a string', act: manifest({ video: 'yes' }), code: 'MANIFEST_INVALID', says: /video/ },
  {
    name: 'client_reference over 256 characters',
    act: manifest({ client_reference: 'r'.repeat(300) }),
    code: 'MANIFEST_INVALID',
  },
  {
    name: 'legacy body without images',
    act: legacy({ steps: 8 }),
    code: 'MANIFEST_INVALID',
    says: /start_image_base64/,
  },
  {
    name: 'legacy body with invalid base64',
    act: legacy({ start_image_base64: '!!!not base64!!!', end_image_base64: tinyPngBase64 }),
    code: 'MANIFEST_INVALID',
    says: /base64/,
  },
  {
    name: 'legacy body with a typo',
    act: legacy({ start_image_base64: tinyPngBase64, end_image_base64: tinyPngBase64, stepz: 4 }),
    code: 'MANIFEST_INVALID',
    says: /did you mean "steps"/,
  },
  {
    name: 'legacy body with a v1-only key',
    act: legacy({ start_image_base64: tinyPngBase64, end_image_base64: tinyPngBase64, start_image: 'a.png' }),
    code: 'MANIFEST_INVALID',
  },
  {
    name: 'a key given twice (JSON keeps the last)',
    act: () => parseManifest('{"steps": 4, "resolution": 480, "steps": 20}'),
    code: 'MANIFEST_INVALID',
    says: /steps: appears more than once/,
  },
  {
    name: 'a key given twice inside a legacy body',
    act: () =>
      parseManifest(
        `{"input": {"seed": 1, "seed": 2, "start_image_base64": "${tinyPngBase64}", "end_image_base64": "${tinyPngBase64}"}}`,
      ),
    code: 'MANIFEST_INVALID',
    says: /input\.seed: appears more than once/,
  },
  {
    name: 'a NUL character in the prompt',
    act: manifest({ positive_prompt: 'a cat\u0000 jumps' }),
    code: 'MANIFEST_INVALID',
    says: /positive_prompt: contains a control character \(U\+0000\) at character 6/,
  },
  {
    name: 'a bidirectional override in the negative prompt',
    act: manifest({ negative_prompt: 'blurry \u202Etxet neddih' }),
    code: 'MANIFEST_INVALID',
    says: /negative_prompt: contains a bidirectional override \(U\+202E\)/,
  },
  {
    name: 'a bidirectional isolate in client_reference',
    act: manifest({ client_reference: 'order\u2066-1' }),
    code: 'MANIFEST_INVALID',
    says: /client_reference: contains a bidirectional override/,
  },
  {
    name: 'an SVG named as the start image',
    act: manifest({ start_image: 'start.svg' }),
    code: 'MANIFEST_INVALID',
    says: /start_image: must name a PNG, JPEG or WebP file/,
  },
  {
    name: 'an image name without an extension',
    act: manifest({ end_image: 'end' }),
    code: 'MANIFEST_INVALID',
    says: /end_image: must name a PNG, JPEG or WebP file/,
  },
];

const idCases: Case[] = [
  { name: 'request id with a slash', act: () => assertRequestId('a/b'), code: 'REQUEST_ID_INVALID' },
  { name: 'request id "..""', act: () => assertRequestId('..'), code: 'REQUEST_ID_INVALID' },
  {
    name: 'request id with a control character',
    act: () => assertRequestId('abc\u0000def'),
    code: 'REQUEST_ID_INVALID',
  },
  {
    name: 'request id of 65 characters',
    act: () => assertRequestId('a'.repeat(65)),
    code: 'REQUEST_ID_INVALID',
  },
  { name: 'empty request id', act: () => assertRequestId(''), code: 'REQUEST_ID_INVALID' },
  {
    name: 'dot-dot id in an inbox key',
    act: () => parseInboxManifestKey('inbox/../manifest.json'),
    code: 'REQUEST_ID_INVALID',
  },
];

async function half(format: 'png' | 'jpeg' | 'webp'): Promise<Buffer> {
  const full = await makeImage(256, 256, format);
  return full.subarray(0, Math.floor(full.length / 2));
}

const imageCases: Case[] = [
  { name: 'an empty file', act: () => inspectImage(new Uint8Array()), code: 'IMAGE_EMPTY' },
  { name: 'a truncated PNG', act: async () => inspectImage(await half('png')), code: 'IMAGE_TRUNCATED' },
  { name: 'a truncated JPEG', act: async () => inspectImage(await half('jpeg')), code: 'IMAGE_TRUNCATED' },
  { name: 'a truncated WebP', act: async () => inspectImage(await half('webp')), code: 'IMAGE_TRUNCATED' },
  {
    name: 'a PNG claiming 100 000 x 100 000',
    act: () => inspectImage(pngWithDeclaredSize(100_000, 100_000)),
    code: 'IMAGE_TOO_LARGE',
    says: /100000x100000/,
  },
  {
    name: 'a PNG chunk longer than the file',
    act: () => inspectImage(pngWithOverlongChunk()),
    code: 'IMAGE_TRUNCATED',
  },
  {
    name: 'a GIF renamed .png',
    act: () => inspectImage(gif()),
    code: 'IMAGE_FORMAT_UNSUPPORTED',
    says: /GIF/,
  },
  {
    name: 'a 1x1 image',
    act: async () => inspectImage(await makeImage(1, 1)),
    code: 'IMAGE_DIMENSIONS',
    says: /1x1/,
  },
  {
    name: 'a 63-pixel-wide image',
    act: async () => inspectImage(await makeImage(63, 200)),
    code: 'IMAGE_DIMENSIONS',
  },
  {
    name: 'a file over 25 MiB',
    act: async () => inspectImage(await makeImage(128, 128), { totalSize: IMAGE_LIMITS.maxBytes + 1 }),
    code: 'IMAGE_TOO_LARGE',
  },
  {
    name: 'a side over 4096 px',
    act: () => inspectImage(pngWithDeclaredSize(4097, 1000)),
    code: 'IMAGE_TOO_LARGE',
  },
  {
    name: 'over 16 megapixels',
    act: () => inspectImage(pngWithDeclaredSize(4096, 4000)),
    code: 'IMAGE_TOO_LARGE',
  },
  {
    name: 'random bytes',
    act: () => inspectImage(new Uint8Array(64).fill(7)),
    code: 'IMAGE_FORMAT_UNSUPPORTED',
  },
  {
    name: 'a PDF renamed .png',
    act: () => inspectImage(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n')),
    code: 'IMAGE_FORMAT_UNSUPPORTED',
    says: /PDF/,
  },
  {
    name: 'a JPEG with no frame header',
    act: () => inspectImage(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 0xff, 0xd9])),
    code: 'IMAGE_CORRUPT',
  },
  {
    name: 'a PNG whose first chunk is not IHDR',
    act: () => {
      const png = pngWithDeclaredSize(128, 128);
      png.write('IHDX', 12, 'ascii');
      return inspectImage(png);
    },
    code: 'IMAGE_CORRUPT',
  },
  {
    name: 'a PNG whose tail lacks IEND',
    act: async () => {
      const png = await makeImage(128, 128);
      return inspectImage(png.subarray(0, 40), {
        totalSize: png.length,
        tail: png.subarray(png.length - 64, png.length - 1),
      });
    },
    code: 'IMAGE_TRUNCATED',
  },
  {
    name: 'an animated PNG (APNG)',
    act: async () => inspectImage(await animatedPng(160, 120)),
    code: 'IMAGE_ANIMATED',
    says: /animated PNG/,
  },
  {
    name: 'an animated WebP',
    act: async () => inspectImage(await animatedWebp(160, 120)),
    code: 'IMAGE_ANIMATED',
    says: /animated WebP/,
  },
];

const corpus = [...manifestCases, ...idCases, ...imageCases];

describe('bad input corpus', () => {
  it('holds at least 40 cases', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  it.each(corpus.map((c) => [c.name, c] as const))('refuses %s with its code', async (_name, c) => {
    let thrown: unknown;
    try {
      await c.act();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HeritageError);
    const error = thrown as HeritageError;
    expect(error.code).toBe(c.code);
    if (c.says !== undefined) expect(error.message).toMatch(c.says);
  });
});
