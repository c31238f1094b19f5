import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeImage } from '../../local/testkit/images.js';
import { runCli } from '../support/cli.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

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
      message: 'unknown option --colour',
    },
    {
      why: 'a mistyped flag, naming the one it resembles',
      args: () => [start, end, '--frame', '33'],
      message: 'unknown option --frame (did you mean --frames?)',
    },
    {
      why: 'a flag without its value',
      args: () => [start, end, '--frames'],
      message: '--frames needs a value',
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
      expect(JSON.parse(run.stdout)).toMatchObject({
        ok: false,
        exit_code: 3,
        command: 'submit',
        result: null,
        error: { code },
      });
      expect(run.stderr.split(code)).toHaveLength(2);
      expect(await keysInBucket()).toEqual([]);
    },
  );

  it('refuses an unknown command with exit 2, naming the one it resembles', async () => {
    // Act
    const run = await runCli(['sumbit', start, end]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown command 'sumbit' (did you mean 'submit'?)");
  });

  it('refuses an id that already has a request before it uploads anything', async () => {
    // Prepare: a request under the id, as dispatch leaves it.
    const now = new Date().toISOString();
    await aws.statuses.create({
      version: 1,
      request_id: 'args-used',
      state: 'succeeded',
      created_at: now,
      updated_at: now,
    });

    // Act
    const run = await submit(start, end, '--id', 'args-used', '--json');

    // Assess
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { code: 'REQUEST_ID_REUSED' } });
    expect(run.stderr).toContain('single-use: leave out --id for a fresh one');
    expect((await keysInBucket()).filter((key) => key.startsWith('inbox/args-used/'))).toEqual([]);
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
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, exit_code: 0, command: 'submit', error: null });
    expect(JSON.parse(run.stdout).result).toMatchObject({
      request_id: 'args-ok-1',
      bucket: aws.bucket,
      expected: { frames: 33, width: 848, height: 480, fps: 32 },
    });
    expect((await keysInBucket()).filter((key) => key.startsWith('inbox/')).sort()).toEqual([
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

describe('heritage: help, version and the Node it runs on', () => {
  it.each([
    'submit',
    'status',
    'wait',
    'fetch',
    'validate',
    'demo',
    'local up',
    'local',
    'gpu-smoke',
    'models sync',
    'models',
  ])('prints the options of %s with --help, and exits 0', async (name) => {
    // Prepare
    const command = name.split(' ');

    // Act
    const run = await runCli([...command, '--help']);
    const asHelp = await runCli(['help', ...command]);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^heritage ${command[0]}`));
    expect(asHelp.stdout).toBe(run.stdout);
  });

  it('prints its version', async () => {
    // Act
    const run = await runCli(['--version']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^heritage \d+\.\d+\.\d+\n$/);
  });

  it('refuses a Node older than it needs in one line naming the version and npx heritage', async () => {
    // Prepare: this Node, claiming to be Node 20, as a system Node would be.
    const claim20 = `data:text/javascript,${encodeURIComponent(
      "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.19.0' } });",
    )}`;

    // Act
    const run = await runCli(['status', 'my-first'], { nodeOptions: ['--import', claim20] });

    // Assess
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(
      'heritage needs Node 22.5 or later, this is Node 20.19.0: run npx heritage status my-first, ' +
        'which uses the Node that npm ci installed\n',
    );
  });
});
