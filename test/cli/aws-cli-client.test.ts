/**
 * An independent client drives `heritage local up`: the AWS CLI uploads a pair and a manifest and
 * subscribes a queue to the completions topic, where the test sees the completion event. CI installs
 * the AWS CLI (.ci/run) and this test must run there; elsewhere it runs when `aws` is installed.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompletionEvent, CompletionEventSchema } from '../../contracts/event.js';
import { localAwsClients } from '../../local/aws-clients.js';
import { makeImage } from '../../local/testkit/images.js';
import { CLI_BIN, NODE, REPO_ROOT } from '../support/cli.js';

const awsInstalled = spawnSync('aws', ['--version'], { encoding: 'utf8' }).status === 0;
const inCi = process.env.CI === 'true';
if (!awsInstalled && !inCi) {
  console.log('aws-cli-client.test.ts: not run, the AWS CLI (`aws`) is not installed here; CI installs it');
}

interface LocalUp {
  endpoint: string;
  region: string;
  bucket: string;
  topic_arn: string;
}

describe.runIf(awsInstalled || inCi)('the AWS CLI as a client of `heritage local up`', () => {
  let child: ChildProcessWithoutNullStreams;
  let stack: LocalUp;
  let stderr = '';

  beforeAll(async () => {
    child = spawn(NODE, [CLI_BIN, 'local', 'up', '--port', '0', '--idle-timeout', '2', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, COMFYUI_URL: '', AWS_ENDPOINT_URL: '' },
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    stack = await new Promise<LocalUp>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        let document: { ok: boolean; result: LocalUp; error: { message: string } | null } | undefined;
        try {
          document = JSON.parse(stdout);
        } catch {
          return; // The JSON document is not complete yet.
        }
        if (document?.ok === false) reject(new Error(`local up failed: ${document.error?.message}`));
        else if (document !== undefined) resolve(document.result);
      });
      child.once('exit', (code) => reject(new Error(`local up exited with ${code}: ${stderr}`)));
    });
  });

  afterAll(async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  function aws(...args: string[]): string {
    const run = spawnSync(
      'aws',
      ['--endpoint-url', stack.endpoint, '--region', stack.region, '--output', 'json', ...args],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'heritage-local',
          AWS_SECRET_ACCESS_KEY: 'heritage-local',
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_ENDPOINT_URL: '',
          // AWS CLI v2 would page JSON output through less.
          AWS_PAGER: '',
        },
      },
    );
    if (run.status !== 0) throw new Error(`aws ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
    return run.stdout;
  }

  it('uploads a pair and a manifest with `aws s3 cp` and receives the succeeded event', async () => {
    // Prepare: a queue subscribed to the completions topic, as any client of the cloud stack would make.
    // The queue is made and read with the SDK, the subscription with the AWS CLI; the README walkthrough
    // test drives the CLI's own sqs commands.
    const sqs = localAwsClients(stack.endpoint).sqs;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'aws-cli-events' }))).QueueUrl ?? '';
    const queueArn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? '';
    aws(
      'sns',
      'subscribe',
      '--topic-arn',
      stack.topic_arn,
      '--protocol',
      'sqs',
      '--notification-endpoint',
      queueArn,
    );
    const dir = await mkdtemp(join(tmpdir(), 'heritage-aws-cli-'));
    await writeFile(join(dir, 'start.png'), await makeImage(256, 144, 'png'));
    await writeFile(join(dir, 'end.png'), await makeImage(256, 144, 'png', 50));
    await writeFile(
      join(dir, 'manifest.json'),
      JSON.stringify({ resolution: 480, frame_length: 17, interpolation: 1, video: false, seed: 7 }),
    );

    // Act: images first, the manifest last.
    for (const name of ['start.png', 'end.png', 'manifest.json']) {
      aws('s3', 'cp', join(dir, name), `s3://${stack.bucket}/inbox/aws-cli-1/${name}`);
    }
    let event: CompletionEvent | undefined;
    for (let attempt = 0; attempt < 24 && event === undefined; attempt++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }));
      const body = out.Messages?.[0]?.Body;
      if (body !== undefined) {
        event = CompletionEventSchema.parse(JSON.parse((JSON.parse(body) as { Message: string }).Message));
      }
    }
    sqs.destroy();

    // Assess
    expect(event, `no completion event; local up said: ${stderr}`).toBeDefined();
    expect(event).toMatchObject({
      request_id: 'aws-cli-1',
      status: 'succeeded',
      engine: 'preview',
      frames: { count: 17, width: 848, height: 480, fps: 16 },
      video: null,
    });
    const listing = aws('s3', 'ls', `s3://${stack.bucket}/outputs/aws-cli-1/`);
    expect(listing).toContain('result.json');
  }, 240_000);
});
