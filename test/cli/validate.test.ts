import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toErrorInfo } from '../../contracts/errors.js';
import { parseManifest } from '../../contracts/manifest.js';
import { makeImage } from '../../local/testkit/images.js';
import { runCli } from '../support/cli.js';

/** What dispatch reports for these bytes: the contracts' parser is the code it runs. */
function dispatchError(bytes: string) {
  try {
    parseManifest(bytes);
  } catch (error) {
    return toErrorInfo(error);
  }
  throw new Error('expected the manifest to be invalid');
}

describe('heritage validate (offline)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heritage-validate-'));
    await writeFile(join(dir, 'start.png'), await makeImage(832, 480, 'png'));
    await writeFile(join(dir, 'end.jpg'), await makeImage(832, 480, 'jpeg', 60));
  });

  async function manifestFile(name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, body);
    return path;
  }

  it('accepts a valid manifest and reports the output geometry from the image next to it', async () => {
    // Prepare
    const path = await manifestFile(
      'ok.json',
      JSON.stringify({ start_image: 'start.png', end_image: 'end.jpg', resolution: 480, frame_length: 65 }),
    );

    // Act
    const run = await runCli(['validate', path, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).result).toMatchObject({
      valid: true,
      format: 'v1',
      images: { start: { format: 'png', width: 832, height: 480 }, end: { format: 'jpeg' } },
      geometry: { frames: 129, width: 832, height: 480, fps: 32 },
      unchecked_images: [],
    });
  });

  it.each([
    { why: 'an unknown key', body: '{"resoluton": 480}' },
    { why: 'a frame_length that is not 4n+1', body: '{"frame_length": 66}' },
    { why: 'text that is not JSON', body: '{"steps": 8,' },
  ])('rejects $why with exit 3 and exactly the error dispatch reports', async ({ body }) => {
    // Prepare
    const path = await manifestFile('bad.json', body);

    // Act
    const run = await runCli(['validate', path, '--json']);

    // Assess
    expect(run.code).toBe(3);
    const expected = dispatchError(body);
    expect(JSON.parse(run.stdout).error).toEqual(expected);
    expect(run.stderr).toContain(`${expected.code}: ${expected.message}`);
  });

  it('rejects a manifest whose image next to it is not an image', async () => {
    // Prepare
    await writeFile(join(dir, 'fake.png'), 'this is text, not a PNG');
    const path = await manifestFile('fake-image.json', JSON.stringify({ start_image: 'fake.png' }));

    // Act
    const run = await runCli(['validate', path]);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('IMAGE_FORMAT_UNSUPPORTED');
  });

  it('checks the inline images of the legacy request body', async () => {
    // Prepare
    const png = (await makeImage(640, 640, 'png')).toString('base64');
    const path = await manifestFile(
      'legacy.json',
      JSON.stringify({
        input: { start_image_base64: `data:image/png;base64,${png}`, end_image_base64: png, resolution: 640 },
      }),
    );

    // Act
    const run = await runCli(['validate', path, '--json']);

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).result).toMatchObject({
      format: 'runpod',
      geometry: { width: 640, height: 640 },
    });
  });

  it('reports a manifest file that does not exist as MANIFEST_MISSING', async () => {
    // Act
    const run = await runCli(['validate', join(dir, 'absent.json')]);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('MANIFEST_MISSING');
  });
});
