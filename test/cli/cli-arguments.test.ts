import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { makeImage } from '../support/images.js';

describe('heritage submit: argument errors', () => {
  let aws: Emulator;
  let dir: string;
  let start: string;
  let end: string;

  beforeAll(async () => {
    aws = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), 'heritage-cli-args-'));
    start = join(dir, 'start.png');
    end = join(dir, 'end.png');
    await writeFile(start, await makeImage(256, 144, 'png'));
    await writeFile(end, await makeImage(256, 144, 'png', 40));
    await writeFile(join(dir, 'notes.gif'), Buffer.from('GIF89a....................', 'ascii'));
  });
  afterAll(async () => {
    await aws.stop();
  });

  async function keysInBucket(): Promise<string[]> {
    const keys: string[] = [];
    for await (const item of aws.objects.list('')) keys.push(item.key);
    return keys;
  }

  function submit(...args: string[]) {
    return runCli(['submit', ...args, '--endpoint', aws.endpoint]);
  }

  it.each([
    {
      why: 'an unknown flag',
      args: () => [start, end, '--colour', 'red'],
      message: "Unknown option '--colour'",
    },
    { why: 'a missing end image', args: () => [start], message: 'expected <start-image> <end-image>' },
    {
      why: 'a non-integer --steps',
      args: () => [start, end, '--steps', 'eight'],
      message: '--steps must be an integer',
    },
    { why: '--out without --wait', args: () => [start, end, '--out', dir], message: '--out needs --wait' },
    { why: 'a start image that does not exist', args: () => [join(dir, 'nope.png'), end], message: 'ENOENT' },
  ])('refuses $why with exit 2 and uploads nothing', async ({ args, message }) => {
    // Act
    const run = await submit(...args());

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await keysInBucket()).toEqual([]);
  });

  it.each([
    {
      why: 'a frame count that is not 4n+1',
      args: () => [start, end, '--frames', '66'],
      code: 'MANIFEST_INVALID',
      message: 'nearest valid: 65 or 69',
    },
    {
      why: 'a resolution that is not offered',
      args: () => [start, end, '--resolution', '500'],
      code: 'MANIFEST_INVALID',
      message: 'resolution',
    },
    {
      why: 'an end image that is a GIF',
      args: () => [start, join(dir, 'notes.gif')],
      code: 'IMAGE_FORMAT_UNSUPPORTED',
      message: 'GIF',
    },
    {
      why: 'an id with a slash',
      args: () => [start, end, '--id', 'a/b'],
      code: 'REQUEST_ID_INVALID',
      message: 'a/b',
    },
  ])(
    'refuses $why with exit 3 and the error code dispatch would give, uploading nothing',
    async ({ args, code, message }) => {
      // Act
      const run = await submit(...args(), '--json');

      // Assess
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(code);
      expect(run.stderr).toContain(message);
      expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, exit_code: 3, error: { code } });
      expect(await keysInBucket()).toEqual([]);
    },
  );

  it('refuses an unknown command with exit 2', async () => {
    // Act
    const run = await runCli(['sumbit', start, end]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'sumbit");
  });

  it('uploads the images, then the manifest, when the arguments are valid', async () => {
    // Act
    const run = await submit(
      start,
      end,
      '--id',
      'args-ok-1',
      '--resolution',
      '480',
      '--frames',
      '17',
      '--json',
    );

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      request_id: 'args-ok-1',
      bucket: aws.bucket,
      expected: { frames: 33, width: 848, height: 480, fps: 32 },
    });
    expect((await keysInBucket()).sort()).toEqual([
      'inbox/args-ok-1/end.png',
      'inbox/args-ok-1/manifest.json',
      'inbox/args-ok-1/start.png',
    ]);
    const manifest = await aws.objects.get('inbox/args-ok-1/manifest.json');
    expect(JSON.parse(new TextDecoder().decode(manifest?.body))).toMatchObject({
      version: 1,
      start_image: 'start.png',
      end_image: 'end.png',
      resolution: 480,
      frame_length: 17,
    });
  });
});
