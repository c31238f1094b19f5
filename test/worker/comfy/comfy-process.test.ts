import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitForReady, watchProcess } from '../../../gpu-container/worker/engines/comfy/comfy-process.js';
import { ComfyDouble } from '../../support/comfy-double.js';
import { rejection } from './client-contract.js';

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('waitForReady', () => {
  it('returns the system stats once ComfyUI answers', async () => {
    // Prepare
    const double = await ComfyDouble.start();

    try {
      // Act
      const stats = await waitForReady({ url: double.url, timeoutMs: 10_000 });

      // Assess
      expect(stats.devices[0]?.type).toBe('cuda');
    } finally {
      await double.close();
    }
  });

  it('fails at once with ENGINE_CRASHED when the ComfyUI process exits before it answers', async () => {
    // Prepare: the timeout is far beyond the test's limit, so only the process watch can end the wait.
    const port = await closedPort();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => process.exit(3), 50)']);

    // Act
    const error = await rejection(
      waitForReady({ url: `http://127.0.0.1:${port}`, process: watchProcess(child), timeoutMs: 600_000 }),
    );

    // Assess
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.details).toMatchObject({ exit_code: 3, signal: null });
    expect(error.message).toContain('while starting');
  });

  it('gives up with COMFYUI_UNAVAILABLE when nothing answers within the timeout', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const error = await rejection(
      waitForReady({ url: `http://127.0.0.1:${port}`, timeoutMs: 300, intervalMs: 50 }),
    );

    // Assess
    expect(error.code).toBe('COMFYUI_UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });
});

describe('watchProcess', () => {
  it('notices the exit of a process known only by its PID', async () => {
    // Prepare
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await once(child, 'spawn');
    const watch = watchProcess(child.pid ?? -1, 20);

    // Act
    const wasRunning = watch.hasExited();
    child.kill('SIGTERM');
    await once(child, 'exit');
    const exit = await watch.exited;

    // Assess
    expect(wasRunning).toBe(false);
    expect(exit.pid).toBe(child.pid);
    expect(watch.hasExited()).toBe(true);
  });
});
