/**
 * The container smoke test (gpu-container/image/container-smoke.ts) against the built worker image.
 * It runs whenever the image is in the local Docker engine (npm run image builds it) and says so when
 * it is not: CI builds no image, so there it reports the image as absent.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, imagePresent, runContainerSmoke } from '../../gpu-container/image/container-smoke.js';

const image = process.env.HERITAGE_IMAGE ?? DEFAULT_IMAGE;
const present = await imagePresent(image);
if (!present) {
  console.warn(
    `container smoke: image ${image} is not in the local Docker engine; build it with npm run image`,
  );
}

describe.skipIf(!present)(`the worker image ${image}, without a GPU`, () => {
  it('imports, starts ComfyUI on the CPU, drains a request, answers its health check and stops on SIGTERM', async () => {
    // Act
    const checks = await runContainerSmoke(image);

    // Assess
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(checks.map((check) => check.name)).toEqual(['imports', 'comfyui', 'request', 'health', 'sigterm']);
  }, 900_000);
});
