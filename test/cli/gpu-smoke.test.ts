import { describe, expect, it } from 'vitest';
import { gpuSmoke } from '../../cli/gpu-smoke.js';
import { computeGeometry } from '../../contracts/geometry.js';

describe('heritage gpu-smoke', () => {
  it('refuses a resolution that requests cannot ask for, before touching the GPU', async () => {
    await expect(gpuSmoke(['--resolution', '900'])).rejects.toThrow(
      '--resolution must be one of 480, 640, 720, 1080',
    );
  });

  it('measures at the frame sizes the benchmarks report for the 832x480 reference image', () => {
    const sizes = [480, 640, 720, 1080].map((resolution) => {
      const { width, height } = computeGeometry(
        { width: 832, height: 480 },
        { resolution, frame_length: 65, interpolation: 2 },
      );
      return `${width}x${height}`;
    });

    expect(sizes).toEqual(['832x480', '1104x640', '1248x720', '1872x1088']);
  });
});
