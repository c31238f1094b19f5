/**
 * submit --wait, status, wait and fetch against a running local stack (real dispatch, real worker,
 * preview engine), the way a user drives a deployment from the command line.
 */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForCompletionEvent } from '../../cli/requests/completion-listener.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { makeImage } from '../../local/testkit/images.js';
import { runCli } from '../support/cli.js';

describe('heritage submit, status, wait and fetch on the local stack', () => {
  let stack: LocalStack;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heritage-requests-'));
    stack = await startLocalStack({
      port: 0,
      maxWorkers: 1,
      idleTimeoutSeconds: 2,
      workDir: join(dir, 'stack'),
    });
    await writeFile(join(dir, 'start.png'), await makeImage(256, 144, 'png'));
    await writeFile(join(dir, 'end.png'), await makeImage(256, 144, 'png', 50));
  });
  afterAll(async () => {
    await stack.stop();
  });

  function heritage(...args: string[]) {
    return runCli([...args, '--endpoint', stack.aws.endpoint, '--json'], { timeoutMs: 180_000 });
  }

  it('submits, waits and downloads a request, then reports and fetches it again', async () => {
    // Act
    const submitted = await heritage(
      'submit',
      join(dir, 'start.png'),
      join(dir, 'end.png'),
      '--id',
      'cli-round-trip',
      '--resolution',
      '480',
      '--frames',
      '17',
      '--interpolation',
      '1',
      '--no-video',
      '--wait',
      '--out',
      join(dir, 'first'),
    );
    const status = await heritage('status', 'cli-round-trip');
    const waited = await heritage('wait', 'cli-round-trip');
    const fetched = await heritage('fetch', 'cli-round-trip', '--out', join(dir, 'second'));

    // Assess
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(JSON.parse(submitted.stdout).result).toMatchObject({
      request_id: 'cli-round-trip',
      state: 'succeeded',
    });
    expect(await readdir(join(dir, 'first', 'cli-round-trip', 'frames'))).toHaveLength(17);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).result).toMatchObject({
      request_id: 'cli-round-trip',
      state: 'succeeded',
    });
    expect(waited.code).toBe(0);
    expect(fetched.code).toBe(0);
    expect(JSON.parse(fetched.stdout).result).toMatchObject({
      frames: { count: 17, width: 848, height: 480, fps: 16 },
      video: null,
      engine: 'preview',
    });
    expect((await readdir(join(dir, 'second', 'cli-round-trip'))).sort()).toEqual(['frames', 'result.json']);
  }, 240_000);

  it('exits 1 with the error code, once, and the same JSON shape as success, when the request is rejected', async () => {
    // Prepare: a manifest the CLI would refuse, uploaded around it, as another client could.
    const put = (key: string, body: Uint8Array | string) =>
      stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.aws.bucket, Key: key, Body: body }));
    await put('inbox/cli-rejected/start.png', await makeImage(256, 144, 'png'));
    await put('inbox/cli-rejected/end.png', await makeImage(256, 144, 'png'));
    await put('inbox/cli-rejected/manifest.json', JSON.stringify({ frame_length: 66 }));

    // Act
    const waited = await heritage('wait', 'cli-rejected', '--timeout', '120');
    const fetched = await heritage('fetch', 'cli-rejected');

    // Assess
    expect(waited.code).toBe(1);
    expect(JSON.parse(waited.stdout)).toEqual({
      ok: false,
      exit_code: 1,
      command: 'wait',
      result: expect.objectContaining({ request_id: 'cli-rejected', state: 'rejected' }),
      error: expect.objectContaining({ code: 'MANIFEST_INVALID' }),
    });
    expect(waited.stderr).toContain(
      'heritage: request cli-rejected rejected: MANIFEST_INVALID: manifest is invalid: frame_length',
    );
    expect(waited.stderr.split('MANIFEST_INVALID')).toHaveLength(2);
    expect(waited.stderr).toContain('new id');
    expect(fetched.code).toBe(1);
    expect(fetched.stderr).toContain('request cli-rejected was rejected, so it has no outputs');
  }, 180_000);

  it('says there is no manifest at inbox/<id>/ instead of waiting for one, naming the images it found', async () => {
    // Prepare: images without a manifest.
    await stack.clients.s3.send(
      new PutObjectCommand({
        Bucket: stack.aws.bucket,
        Key: 'inbox/cli-images-only/start.png',
        Body: await makeImage(256, 144, 'png'),
      }),
    );

    // Act
    const waited = await heritage('wait', 'cli-images-only');
    const status = await heritage('status', 'cli-images-only');
    const nothing = await heritage('wait', 'cli-never-sent');

    // Assess
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain(
      'no manifest at s3://heritage-requests/inbox/cli-images-only/ (it holds start.png)',
    );
    expect(waited.stderr).toContain('upload manifest.json there, after the images');
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('no manifest at');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing was submitted under this id');
  });

  it('refuses to submit under an id that was used, and dispatch refuses a manifest uploaded there anyway', async () => {
    // Prepare: cli-round-trip ran in the first test.
    const put = (key: string, body: string) =>
      stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.aws.bucket, Key: key, Body: body }));
    const before = await heritage('status', 'cli-round-trip');
    const events = stack.aws.subscribeQueue('cli-reuse-events');

    // Act
    const submitted = await heritage(
      'submit',
      join(dir, 'start.png'),
      join(dir, 'end.png'),
      '--id',
      'cli-round-trip',
    );
    await put(
      'inbox/cli-round-trip/manifest.json',
      JSON.stringify({ frame_length: 33, client_reference: 'again' }),
    );
    const event = await waitForCompletionEvent(stack.clients.sqs, events, 'cli-round-trip', {
      timeoutMs: 60_000,
      accept: () => true,
    });
    const after = await heritage('status', 'cli-round-trip');

    // Assess
    expect(submitted.code).toBe(3);
    expect(JSON.parse(submitted.stdout).error.code).toBe('REQUEST_ID_REUSED');
    expect(event).toMatchObject({
      type: 'heritage.upload.rejected',
      client_reference: 'again',
      error: { code: 'REQUEST_ID_REUSED' },
    });
    expect(JSON.parse(after.stdout).result).toEqual(JSON.parse(before.stdout).result);
  }, 120_000);
});
