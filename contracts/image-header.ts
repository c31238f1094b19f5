/**
 * Image checks on the header alone, before anything is decoded: format by magic bytes, size caps, and a
 * structural walk that refuses truncated files and chunks that claim more bytes than the file holds.
 * Dimensions are capped here, so a decompression bomb never reaches a decoder. Animated images are
 * refused, and an EXIF orientation is read, so that width and height are the image as it is displayed.
 */
import {
  ImageAnimatedError,
  ImageCorruptError,
  ImageDimensionsError,
  ImageEmptyError,
  ImageFormatError,
  ImageTooLargeError,
  ImageTruncatedError,
} from './errors.js';

export const IMAGE_LIMITS = {
  maxBytes: 25 * 1024 * 1024,
  minSide: 64,
  maxSide: 4096,
  maxPixels: 16_000_000,
} as const;

/** How many leading bytes a caller should read to inspect an image without the whole file. */
export const IMAGE_HEADER_PROBE_BYTES = 256 * 1024;
/** How many trailing bytes a caller should read: the end-of-image marker, and a WebP's EXIF chunk. */
export const IMAGE_TAIL_PROBE_BYTES = 64 * 1024;

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
  format: ImageFormat;
  /** As displayed: the stored width and height, swapped when the EXIF orientation turns the image. */
  width: number;
  height: number;
  /** EXIF orientation, 1 (as stored) to 8; decoders that honour it (ComfyUI's LoadImage does) turn the pixels. */
  orientation: number;
}

export interface InspectOptions {
  /** Size of the whole file when `bytes` is only its beginning. Defaults to bytes.length. */
  totalSize?: number;
  /** The last bytes of the file, when `bytes` is only its beginning. */
  tail?: Uint8Array;
  /** Names the image in messages, e.g. "start image". */
  label?: string;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function otherFormat(bytes: Uint8Array): string | undefined {
  if (ascii(bytes, 0, 4) === 'GIF8') return 'GIF';
  if (ascii(bytes, 0, 2) === 'BM') return 'BMP';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'TIFF';
  if (ascii(bytes, 4, 4) === 'ftyp') return 'HEIF/AVIF/MP4';
  if (ascii(bytes, 0, 5) === '%PDF-') return 'PDF';
  if (bytes[0] === 0x3c) return 'text/SVG';
  return undefined;
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly totalSize: number,
    readonly label: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get complete(): boolean {
    return this.bytes.length >= this.totalSize;
  }
  need(offset: number, length: number, what: string): void {
    if (offset + length > this.totalSize) {
      throw new ImageTruncatedError(`${this.label} is truncated: ${what} runs past the end of the file`, {
        details: { offset, length, size: this.totalSize },
      });
    }
    if (offset + length > this.bytes.length) {
      throw new ImageCorruptError(
        `${this.label}: ${what} is not within the first ${this.bytes.length} bytes, where Heritage reads headers`,
      );
    }
  }
}

interface Layout {
  width: number;
  height: number;
  orientation?: number;
}

/** The Orientation tag (0x0112) of an EXIF TIFF block, when it has one. */
export function exifOrientation(tiff: Uint8Array): number | undefined {
  if (tiff.length < 8) return undefined;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  if (view.getUint16(2, little) !== 42) return undefined;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + i * 12;
    if (at + 12 > tiff.length) return undefined;
    if (view.getUint16(at, little) === 0x0112) {
      const value = view.getUint16(at + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

function animated(label: string, how: string): ImageAnimatedError {
  return new ImageAnimatedError(`${label} ${how}; send a single still frame (PNG, JPEG or WebP)`);
}

function inspectPng(r: Reader): Layout {
  r.need(8, 25, 'the IHDR chunk');
  if (r.view.getUint32(8) !== 13 || ascii(r.bytes, 12, 4) !== 'IHDR') {
    throw new ImageCorruptError(`${r.label} is not a valid PNG: IHDR must be the first chunk`);
  }
  const width = r.view.getUint32(16);
  const height = r.view.getUint32(20);
  const bitDepth = r.bytes[24];
  const colorType = r.bytes[25];
  if (![1, 2, 4, 8, 16].includes(bitDepth ?? -1) || ![0, 2, 3, 4, 6].includes(colorType ?? -1)) {
    throw new ImageCorruptError(
      `${r.label} is not a valid PNG: bit depth ${bitDepth}, color type ${colorType}`,
    );
  }
  // Walk the chunks we hold: every declared length must fit inside the file.
  let offset = 8;
  let sawData = false;
  let orientation: number | undefined;
  while (offset + 8 <= r.bytes.length) {
    const length = r.view.getUint32(offset);
    const type = ascii(r.bytes, offset + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type))
      throw new ImageCorruptError(`${r.label}: invalid PNG chunk at byte ${offset}`);
    if (offset + 12 + length > r.totalSize) {
      throw new ImageTruncatedError(
        `${r.label} is truncated: PNG chunk ${type} declares ${length} bytes past the end of the file`,
        { details: { chunk: type, offset, length, size: r.totalSize } },
      );
    }
    if (type === 'acTL') throw animated(r.label, 'is an animated PNG (APNG)');
    if (type === 'eXIf' && offset + 8 + length <= r.bytes.length) {
      orientation = exifOrientation(r.bytes.subarray(offset + 8, offset + 8 + length));
    }
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') {
      if (!sawData) throw new ImageCorruptError(`${r.label}: PNG has no image data`);
      return { width, height, ...(orientation === undefined ? {} : { orientation }) };
    }
    offset += 12 + length;
  }
  if (r.complete) throw new ImageTruncatedError(`${r.label} is truncated: the PNG has no IEND chunk`);
  return { width, height, ...(orientation === undefined ? {} : { orientation }) };
}

function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function inspectJpeg(r: Reader): Layout {
  let offset = 2;
  let orientation: number | undefined;
  for (;;) {
    r.need(offset, 4, 'a JPEG segment header');
    if (r.bytes[offset] !== 0xff)
      throw new ImageCorruptError(`${r.label}: invalid JPEG marker at byte ${offset}`);
    let markerAt = offset + 1;
    while (r.bytes[markerAt] === 0xff) markerAt++;
    const marker = r.bytes[markerAt] ?? 0;
    offset = markerAt + 1;
    if (marker === 0xd9 || marker === 0xda) {
      throw new ImageCorruptError(`${r.label}: JPEG has no frame header before its image data`);
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    r.need(offset, 2, 'a JPEG segment length');
    const length = r.view.getUint16(offset);
    if (length < 2) throw new ImageCorruptError(`${r.label}: invalid JPEG segment length ${length}`);
    r.need(offset, length, `JPEG segment 0x${marker.toString(16)}`);
    if (isStartOfFrame(marker)) {
      r.need(offset, 7, 'the JPEG frame header');
      return {
        height: r.view.getUint16(offset + 3),
        width: r.view.getUint16(offset + 5),
        ...(orientation === undefined ? {} : { orientation }),
      };
    }
    const payload = r.bytes.subarray(offset + 2, offset + length);
    if (marker === 0xe1 && ascii(payload, 0, 6) === 'Exif\0\0')
      orientation = exifOrientation(payload.subarray(6));
    if (marker === 0xe2 && ascii(payload, 0, 4) === 'MPF\0')
      throw animated(r.label, 'holds several pictures (MPO)');
    offset += length;
  }
}

/** The EXIF chunk of a WebP, searched in `bytes` (the whole file, or its tail: the chunk follows the image data). */
function webpOrientation(bytes: Uint8Array | undefined): number | undefined {
  if (bytes === undefined) return undefined;
  for (let at = bytes.length - 12; at >= 0; at--) {
    if (ascii(bytes, at, 4) !== 'EXIF') continue;
    const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at + 4, true);
    const start = at + 8 + (ascii(bytes, at + 8, 6) === 'Exif\0\0' ? 6 : 0);
    return exifOrientation(bytes.subarray(start, Math.min(bytes.length, at + 8 + size)));
  }
  return undefined;
}

function inspectWebp(r: Reader, tail: Uint8Array | undefined): Layout {
  const riffSize = r.view.getUint32(4, true);
  if (riffSize + 8 > r.totalSize) {
    throw new ImageTruncatedError(
      `${r.label} is truncated: the WebP header declares ${riffSize + 8} bytes but the file has ${r.totalSize}`,
    );
  }
  r.need(12, 8, 'the WebP chunk header');
  const chunk = ascii(r.bytes, 12, 4);
  const chunkSize = r.view.getUint32(16, true);
  r.need(20, Math.min(chunkSize, 30), `WebP chunk ${chunk}`);
  if (20 + chunkSize > r.totalSize)
    throw new ImageTruncatedError(`${r.label} is truncated inside chunk ${chunk}`);
  if (chunk === 'VP8 ') {
    if (!startsWith(r.bytes, [0x9d, 0x01, 0x2a], 23))
      throw new ImageCorruptError(`${r.label}: invalid VP8 frame`);
    return { width: r.view.getUint16(26, true) & 0x3fff, height: r.view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    if (r.bytes[20] !== 0x2f) throw new ImageCorruptError(`${r.label}: invalid VP8L signature`);
    const bits = r.view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    const flags = r.bytes[20] ?? 0;
    if ((flags & 0x02) !== 0) throw animated(r.label, 'is an animated WebP');
    const width = 1 + ((r.bytes[24] ?? 0) | ((r.bytes[25] ?? 0) << 8) | ((r.bytes[26] ?? 0) << 16));
    const height = 1 + ((r.bytes[27] ?? 0) | ((r.bytes[28] ?? 0) << 8) | ((r.bytes[29] ?? 0) << 16));
    const orientation = (flags & 0x08) === 0 ? undefined : webpOrientation(r.complete ? r.bytes : tail);
    return { width, height, ...(orientation === undefined ? {} : { orientation }) };
  }
  throw new ImageCorruptError(`${r.label}: unknown WebP chunk ${JSON.stringify(chunk)}`);
}

function checkEnd(format: ImageFormat, end: Uint8Array, label: string): void {
  if (format === 'png') {
    const at = end.length - PNG_IEND.length;
    if (at < 0 || !startsWith(end, PNG_IEND, at)) {
      throw new ImageTruncatedError(`${label} is truncated: the PNG does not end with an IEND chunk`);
    }
  } else if (format === 'jpeg') {
    // An end-of-image marker, allowing the padding some encoders append after it.
    let found = false;
    for (let i = end.length - 2; i >= 0 && !found; i--) found = end[i] === 0xff && end[i + 1] === 0xd9;
    if (!found) throw new ImageTruncatedError(`${label} is truncated: the JPEG has no end-of-image marker`);
  }
}

function detectFormat(bytes: Uint8Array, label: string): ImageFormat {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  const other = otherFormat(bytes);
  throw new ImageFormatError(
    `${label} is ${other === undefined ? 'not a recognized image' : `a ${other} file`}; use PNG, JPEG or WebP`,
    { details: other === undefined ? {} : { detected: other } },
  );
}

/** Checks an image from its first bytes (and optionally its last bytes) without decoding it. */
export function inspectImage(bytes: Uint8Array, options: InspectOptions = {}): ImageInfo {
  const label = options.label ?? 'image';
  const totalSize = options.totalSize ?? bytes.length;
  if (totalSize === 0) throw new ImageEmptyError(`${label} is empty`);
  if (totalSize > IMAGE_LIMITS.maxBytes) {
    throw new ImageTooLargeError(
      `${label} is ${totalSize} bytes; the limit is ${IMAGE_LIMITS.maxBytes} bytes (25 MiB)`,
      {
        details: { bytes: totalSize, limit: IMAGE_LIMITS.maxBytes },
      },
    );
  }
  if (bytes.length < 12) {
    if (bytes.length >= totalSize) throw new ImageTruncatedError(`${label} is only ${totalSize} bytes`);
    throw new ImageCorruptError(`${label}: too few header bytes to inspect`);
  }
  const format = detectFormat(bytes, label);
  const reader = new Reader(bytes, totalSize, label);
  const layout =
    format === 'png'
      ? inspectPng(reader)
      : format === 'jpeg'
        ? inspectJpeg(reader)
        : inspectWebp(reader, options.tail);
  const orientation = layout.orientation ?? 1;
  // Orientations 5-8 turn the image a quarter: it is displayed (and rendered) with its sides swapped.
  const turned = orientation >= 5;
  const width = turned ? layout.height : layout.width;
  const height = turned ? layout.width : layout.height;
  if (width < IMAGE_LIMITS.minSide || height < IMAGE_LIMITS.minSide) {
    throw new ImageDimensionsError(
      `${label} is ${width}x${height}; each side must be at least ${IMAGE_LIMITS.minSide} px`,
      {
        details: { width, height },
      },
    );
  }
  if (
    width > IMAGE_LIMITS.maxSide ||
    height > IMAGE_LIMITS.maxSide ||
    width * height > IMAGE_LIMITS.maxPixels
  ) {
    throw new ImageTooLargeError(
      `${label} is ${width}x${height}; the limits are ${IMAGE_LIMITS.maxSide} px per side and ${IMAGE_LIMITS.maxPixels / 1e6} megapixels`,
      { details: { width, height } },
    );
  }
  const end = reader.complete ? bytes : options.tail;
  if (end !== undefined) checkEnd(format, end, label);
  return { format, width, height, orientation };
}
