import { afterAll, beforeAll, describe } from 'vitest';
import { ComfyDouble } from '../../support/comfy-double.js';
import { clientContract } from './client-contract.js';

describe('ComfyHttpClient against the ComfyUI protocol double', () => {
  let double: ComfyDouble;
  beforeAll(async () => {
    double = await ComfyDouble.start();
  });
  afterAll(async () => {
    await double.close();
  });

  clientContract(() => double.url);
});

const realComfyUrl = process.env.COMFYUI_URL;
if (realComfyUrl === undefined || realComfyUrl === '') {
  console.info(
    '[heritage] the ComfyUI client suite against a real ComfyUI is skipped: COMFYUI_URL is not set',
  );
}

describe.runIf(realComfyUrl !== undefined && realComfyUrl !== '')(
  'ComfyHttpClient against a real ComfyUI (runs when COMFYUI_URL is set)',
  () => {
    clientContract(() => realComfyUrl ?? '');
  },
);
