/**
 * Image factories for tests and benchmarks: real encoders (sharp) for valid files, hand-built bytes for
 * malformed ones.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

export type Format = 'png' | 'jpeg' | 'webp';

/** A real, decodable image with a gradient and a square, so it is not trivially compressible. */
export async function makeImage(
  width: number,
  height: number,
  format: Format = 'png',
  shift = 0,
): Promise<Buffer> {
  const channels = 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const inSquare = Math.abs(x - (width / 4 + shift)) < width / 8 && Math.abs(y - height / 2) < height / 8;
      pixels[i] = inSquare ? 240 : (x * 255) / width;
      pixels[i + 1] = inSquare ? 40 : (y * 255) / height;
      pixels[i + 2] = inSquare ? 40 : 128;
    }
  }
  return sharp(pixels, { raw: { width, height, channels } })[format]().toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** A structurally valid PNG whose IHDR declares any size, with a tiny IDAT: what a decompression bomb looks like. */
export function pngWithDeclaredSize(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8);
  ihdr.writeUInt8(2, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG whose IDAT chunk claims more bytes than the file holds. */
export function pngWithOverlongChunk(): Buffer {
  const valid = pngWithDeclaredSize(128, 128);
  const idatLengthOffset = 8 + 25;
  const copy = Buffer.from(valid);
  copy.writeUInt32BE(1_000_000, idatLengthOffset);
  return copy;
}

export function gif(): Buffer {
  return Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
}

/** A real PNG turned into an animated PNG: an acTL chunk right after IHDR, as APNG encoders write it. */
export async function animatedPng(width: number, height: number): Promise<Buffer> {
  const png = await makeImage(width, height, 'png');
  const afterIhdr = 8 + 25;
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(2, 0); // frames
  actl.writeUInt32BE(0, 4); // plays forever
  return Buffer.concat([png.subarray(0, afterIhdr), chunk('acTL', actl), png.subarray(afterIhdr)]);
}

/** A real WebP with EXIF (so an extended VP8X header), its animation flag set. */
export async function animatedWebp(width: number, height: number): Promise<Buffer> {
  const webp = Buffer.from(await withOrientation(await makeImage(width, height, 'png'), 'webp', 1));
  if (webp.toString('ascii', 12, 16) !== 'VP8X') throw new Error('expected an extended WebP');
  webp[20] = (webp[20] ?? 0) | 0x02;
  return webp;
}

/** The image re-encoded with an EXIF orientation (1-8): the stored pixels stay as they are. */
export async function withOrientation(image: Buffer, format: Format, orientation: number): Promise<Buffer> {
  return sharp(image)[format]().withMetadata({ orientation }).toBuffer();
}
