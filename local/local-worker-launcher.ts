/**
 * WorkerLauncher for the local stack: the real worker entry point runs as child processes in place of
 * AWS Batch jobs, at most `maxWorkers` at once. A worker exits on its own after its idle timeout, which is
 * how the local pool scales to zero like the cloud one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerCensus, WorkerLauncher } from '../contracts/ports.js';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const WORKER_ENTRY = join(REPO_ROOT, 'gpu-container/worker/main.ts');

export interface WorkerExit {
  workerId: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  logFile: string;
}

export interface LocalWorkerLauncherOptions {
  maxWorkers: number;
  /** Environment of each worker on top of this process's own (endpoint, bucket, queue, topic, ...). */
  env: Record<string, string>;
  /** Where each worker's stdout and stderr go, one file per worker. */
  logDir: string;
  /** The command that runs one worker; the real worker entry point through tsx by default. */
  command?: { file: string; args: string[] };
  onExit?: (exit: WorkerExit) => void;
}

export class LocalWorkerLauncher implements WorkerLauncher {
  private readonly children = new Map<string, ChildProcess>();
  private started = 0;
  private closed = false;

  constructor(private readonly options: LocalWorkerLauncherOptions) {
    mkdirSync(options.logDir, { recursive: true });
  }

  async liveWorkers(): Promise<number> {
    return this.children.size;
  }

  /** A local worker starts at once: none ever waits for capacity. */
  async census(): Promise<WorkerCensus> {
    return { live: this.children.size, runnable: 0, running: this.children.size };
  }

  /** Process ids of the live workers by worker id (WORKER_ID, recorded in status.json). */
  workerPids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const [workerId, child] of this.children) if (child.pid !== undefined) pids.set(workerId, child.pid);
    return pids;
  }

  async launch(count: number): Promise<number> {
    if (this.closed) return 0;
    const room = Math.max(0, this.options.maxWorkers - this.children.size);
    const n = Math.min(Math.max(0, Math.floor(count)), room);
    for (let i = 0; i < n; i++) this.startOne();
    return n;
  }

  /** Sends SIGTERM to every live worker, as Batch does on cancel, and waits for them to exit. Launches nothing after. */
  async stopAll(): Promise<void> {
    this.closed = true;
    const exits = [...this.children.values()].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
  }

  private startOne(): void {
    this.started += 1;
    const workerId = `local-worker-${process.pid}-${this.started}`;
    const logFile = join(this.options.logDir, `${workerId}.log`);
    const log = createWriteStream(logFile);
    const command = this.options.command ?? {
      file: process.execPath,
      args: ['--import', 'tsx', WORKER_ENTRY],
    };
    const child = spawn(command.file, command.args, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ...this.options.env,
        WORK_DIR: join(this.options.logDir, workerId),
        WORKER_ID: workerId,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.children.set(workerId, child);
    child.once('error', (error) => {
      log.write(`failed to start worker: ${error.message}\n`);
    });
    child.once('close', (code, signal) => {
      this.children.delete(workerId);
      log.end();
      this.options.onExit?.({ workerId, code, signal, logFile });
    });
  }
}
