/**
 * The README's local walkthrough, every shell block as written, with the AWS CLI that is installed
 * (CI installs Debian's, .ci/run) and only the environment the README exports: no AWS variable or
 * AWS config of this machine leaks in. One change is made, and checked: the port. 4566 may be taken
 * here (LocalStack, another run), so `local up` gets `--port N` and the endpoint says N.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../gpu-container/worker/engines/comfy/supervisor.js';
import { REPO_ROOT } from '../support/cli.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Walkthrough: local mode'),
  readme.indexOf('## Walkthrough: cloud mode'),
);
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
const awsVersion = spawnSync('aws', ['--version'], { encoding: 'utf8' });

/** This machine's environment without anything AWS or Heritage: what a new user's shell has. */
function userEnvironment(home: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(AWS_|HERITAGE_|REQUEST_BUCKET|MODEL_)/.test(name)),
  );
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    COMFYUI_URL: '',
  };
}

function bash(
  script: string,
  env: NodeJS.ProcessEnv,
  detached = false,
): ChildProcess & { output: () => string } {
  const child = spawn('bash', ['-c', `set -eo pipefail\n${script}`], { cwd: REPO_ROOT, env, detached });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return Object.assign(child, { output: () => output });
}

describe('the README local walkthrough', () => {
  let server: ReturnType<typeof bash> | undefined;
  const made: string[] = [];
  let home: string | undefined;

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = once(server, 'exit');
      process.kill(-server.pid, 'SIGINT');
      await exited;
    }
    for (const dir of made) await rm(join(REPO_ROOT, dir), { recursive: true, force: true });
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  });

  it('runs every shell block as written and gets frames, the event and a second request', async () => {
    // Prepare
    expect(
      awsVersion.status,
      'the AWS CLI is not installed: .ci/run installs it (apt-get install awscli)',
    ).toBe(0);
    home = await mkdtemp(join(tmpdir(), 'heritage-walkthrough-'));
    const env = userEnvironment(home);
    const port = await freeLoopbackPort();
    const demo = blocks.filter((block) => block.includes('npm run demo'));
    const up = blocks.filter((block) => block.includes('npx heritage local up'));
    const client = blocks.filter((block) => !demo.includes(block) && !up.includes(block));
    expect([demo.length, up.length, client.length]).toEqual([1, 1, blocks.length - 2]);
    expect(client.some((block) => block.includes('127.0.0.1:4566'))).toBe(true);
    const upOnPort = (up[0] ?? '').replace('npx heritage local up', `npx heritage local up --port ${port}`);
    const clientScript = client.join('\n').replaceAll('127.0.0.1:4566', `127.0.0.1:${port}`);

    // Act: the demo; then the stack in one terminal and the client blocks, in order, in another.
    const demoRun = bash(demo[0] ?? '', env);
    const [demoCode] = (await once(demoRun, 'exit')) as [number | null];
    const demoId = /request (demo-\S+) succeeded/.exec(demoRun.output())?.[1];
    if (demoId !== undefined) made.push(join('out', demoId));
    server = bash(upOnPort, env, true);
    await new Promise<void>((resolve, reject) => {
      server?.stdout?.on('data', () => {
        if (server?.output().includes('listening on')) resolve();
      });
      server?.once('exit', (code) => reject(new Error(`local up exited with ${code}: ${server?.output()}`)));
    });
    made.push(join('out', 'my-first'), join('out', 'my-second'));
    const clientRun = bash(clientScript, env);
    const [clientCode] = (await once(clientRun, 'exit')) as [number | null];

    // Assess
    expect(demoCode, demoRun.output()).toBe(0);
    expect(demoRun.output()).toContain('succeeded (engine: preview)');
    expect(clientCode, `${clientRun.output()}\n--- local up:\n${server.output()}`).toBe(0);
    expect(await readdir(join(REPO_ROOT, 'out', 'my-first', 'frames'))).toHaveLength(65);
    expect(clientRun.output()).toContain('heritage.request.succeeded');
    expect(clientRun.output()).toMatch(/request_id\\+"?:\\+"my-first/);
    expect(clientRun.output()).toContain('my-second succeeded: 65 frames');
    expect(existsSync(join(REPO_ROOT, 'out', 'my-second', 'result.json'))).toBe(true);
  }, 900_000);
});
