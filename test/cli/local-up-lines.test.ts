/**
 * `heritage local up` as an operator watches it: a request sent through the S3 API, then one line on
 * the console with its id, state, stage times and GPU-held time.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../adapters/aws/s3-object-store.js';
import { requestKeys } from '../../contracts/keys.js';
import { ResultSchema } from '../../contracts/result.js';
import { localAwsClients } from '../../local/aws-clients.js';
import { putRequest } from '../../local/testkit/requests.js';
import { CLI_BIN, NODE, REPO_ROOT } from '../support/cli.js';

let child: ChildProcessWithoutNullStreams;
let stack: { endpoint: string; bucket: string };
let stderr = '';

beforeAll(async () => {
  child = spawn(NODE, [CLI_BIN, 'local', 'up', '--port', '0', '--idle-timeout', '2', '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, COMFYUI_URL: '', AWS_ENDPOINT_URL: '' },
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  stack = await new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      try {
        resolve((JSON.parse(stdout) as { result: { endpoint: string; bucket: string } }).result);
      } catch {
        // The JSON document is not complete yet.
      }
    });
    child.once('exit', (code) => reject(new Error(`local up exited with ${code}: ${stderr}`)));
  });
});

afterAll(async () => {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
});

/** Resolves with the first line of local up's console output that matches `pattern`. */
async function lineMatching(pattern: RegExp): Promise<string> {
  for (;;) {
    const line = stderr.split('\n').find((text) => pattern.test(text));
    if (line !== undefined) return line;
    await once(child.stderr, 'data');
  }
}

describe('heritage local up, request lines', () => {
  it('prints a line per finished request: id, state, stage times and GPU-held time', async () => {
    // Prepare
    const clients = localAwsClients(stack.endpoint);
    const objects = new S3ObjectStore(clients.s3, stack.bucket);

    // Act
    await putRequest(objects, 'up-line-1', { resolution: 480, frame_length: 17, interpolation: 1, seed: 7 });
    await putRequest(objects, 'up-line-2', { resolution: 480, frame_length: 18, seed: 7 });
    const succeeded = await lineMatching(/^request up-line-1 /);
    const rejected = await lineMatching(/^request up-line-2 /);

    // Assess
    const stored = await objects.get(requestKeys('up-line-1').result);
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode(stored?.body)));
    const seconds = (name: string) => `${((result.timings_ms[name] ?? Number.NaN) / 1000).toFixed(1)} s`;
    expect(succeeded).toBe(
      `request up-line-1 succeeded  queued ${seconds('queued')}, provision ${seconds('provision')}, ` +
        `inference ${seconds('inference')}, upload ${seconds('upload')}, total ${seconds('total')}  ` +
        `GPU-held ${result.gpu_seconds.toFixed(1)} s`,
    );
    expect(rejected).toBe('request up-line-2 rejected  MANIFEST_INVALID');
    for (const client of Object.values(clients)) client.destroy();
  });
});
