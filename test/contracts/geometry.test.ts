import { describe, expect, it } from 'vitest';
import { HeritageError } from '../../contracts/errors.js';
import { computeGeometry } from '../../contracts/geometry.js';

describe('computeGeometry', () => {
  it('makes the reference 832x480 request from an 832x480 start image', () => {
    const g = computeGeometry(
      { width: 832, height: 480 },
      { resolution: 480, frame_length: 65, interpolation: 2 },
    );
    expect(g).toEqual({ width: 832, height: 480, sourceFrames: 65, frames: 129, fps: 32, interpolation: 2 });
  });

  it('keeps a 16:9 aspect at the default resolution as the event example shows', () => {
    const g = computeGeometry(
      { width: 1920, height: 1080 },
      { resolution: 640, frame_length: 65, interpolation: 2 },
    );
    expect([g.width, g.height]).toEqual([1136, 640]);
  });

  it('puts the resolution on the short side of a portrait image', () => {
    const g = computeGeometry(
      { width: 1080, height: 1920 },
      { resolution: 720, frame_length: 17, interpolation: 1 },
    );
    expect([g.width, g.height, g.frames, g.fps]).toEqual([720, 1280, 17, 16]);
  });

  it('rounds 1080 to a multiple of 16', () => {
    const g = computeGeometry(
      { width: 1920, height: 1080 },
      { resolution: 1080, frame_length: 129, interpolation: 4 },
    );
    expect([g.width % 16, g.height % 16, g.height, g.frames, g.fps]).toEqual([0, 0, 1088, 513, 64]);
  });

  it('refuses a long side past the limit', () => {
    expect(() =>
      computeGeometry(
        { width: 4096, height: 1024 },
        { resolution: 1080, frame_length: 65, interpolation: 2 },
      ),
    ).toThrow(HeritageError);
  });
});
