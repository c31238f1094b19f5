/**
 * `heritage local up` as a user starts it: every socket it listens on is on loopback, and a busy port
 * is named, with the flag that chooses another, leaving nothing behind.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_BIN, NODE, REPO_ROOT } from '../support/cli.js';

/** Local addresses of the TCP sockets process `pid` listens on, as /proc shows them (hex). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter((inode) => inode !== undefined),
  );
  return ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && inodes.has(fields[9] ?? ''))
      .map((fields) => (fields[1] ?? '').split(':')[0] ?? ''),
  );
}

const LOOPBACK = new Set(['0100007F', '00000000000000000000000001000000']);

describe('heritage local up', () => {
  let child: ChildProcessWithoutNullStreams | undefined;

  afterEach(async () => {
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });

  function start(args: string[], env: Record<string, string> = {}) {
    child = spawn(NODE, [CLI_BIN, 'local', 'up', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, COMFYUI_URL: '', AWS_ENDPOINT_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return { process: child, stdout: () => stdout, stderr: () => stderr };
  }

  it('listens on loopback only, the emulator behind its gateway included', async () => {
    // Prepare
    const run = start(['--port', '0', '--json']);

    // Act: wait for the envelope that says it is up.
    const envelope = await new Promise<{ ok: boolean; result: { endpoint: string } }>((resolve, reject) => {
      run.process.stdout.on('data', () => {
        try {
          resolve(JSON.parse(run.stdout()));
        } catch {
          // Not complete yet.
        }
      });
      run.process.once('exit', (code) => reject(new Error(`local up exited with ${code}: ${run.stderr()}`)));
    });
    const addresses = listeningAddresses(run.process.pid ?? 0);

    // Assess
    expect(envelope).toMatchObject({
      ok: true,
      result: { endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) },
    });
    expect(addresses.length).toBeGreaterThanOrEqual(2);
    expect(addresses.filter((address) => !LOOPBACK.has(address))).toEqual([]);
  });

  it('names a busy port and the flag to choose another, and leaves no temporary folder', async () => {
    // Prepare
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as { port: number }).port;
    const temp = await mkdtemp(join(tmpdir(), 'heritage-local-up-test-'));

    // Act
    const run = start(['--port', String(port)], { TMPDIR: temp });
    const [code] = (await once(run.process, 'exit')) as [number | null];
    busy.close();

    // Assess
    expect(code).toBe(4);
    expect(run.stderr()).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(run.stderr()).toContain('--port');
    expect(run.stderr()).not.toMatch(/^\s+at /m);
    // tsx keeps its compile cache there; everything of Heritage's own must be gone.
    expect((await readdir(temp)).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
  });
});
