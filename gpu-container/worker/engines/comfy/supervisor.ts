/**
 * Starts ComfyUI as a child process on loopback, with directories of its own and the model cache as its
 * model paths, waits until it answers, and restarts it when it dies between requests, at most
 * `maxRestarts` times over the worker's life. Past that the worker should exit non-zero, so that Batch
 * retries the job on another host: a ComfyUI that keeps dying here is a sick host or image.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { EngineCrashedError } from '../../../../contracts/errors.js';
import { type ProcessWatch, waitForReady, watchProcess } from './comfy-process.js';
import { extraModelPathsYaml } from './extra-model-paths.js';

/** Waits until ComfyUI at `url` answers; must fail at once (EngineCrashedError) if `child` exits first. */
export type ReadinessProbe = (options: {
  url: string;
  child: ChildProcess;
  timeoutMs: number;
}) => Promise<void>;

/** The worker's readiness wait: polls /system_stats and ends at once, with ENGINE_CRASHED, if the process exits. */
export const comfyReadiness: ReadinessProbe = async ({ url, child, timeoutMs }) => {
  const watch = watchProcess(child);
  try {
    await waitForReady({ url, process: watch, timeoutMs, intervalMs: 200 });
  } finally {
    watch.dispose();
  }
};

/**
 * ComfyUI's own directories under the worker's: every one it writes. Its install (COMFYUI_DIR) is
 * read-only to the worker's user in the image, and ComfyUI's defaults (user/, its SQLite database in
 * user/, input/, output/, temp/) all lie inside it.
 */
export function comfyDirectories(workDir: string) {
  return {
    input: join(workDir, 'input'),
    output: join(workDir, 'output'),
    temp: join(workDir, 'temp'),
    user: join(workDir, 'user'),
  };
}

/** The flags ComfyUI runs with under the worker (the directories must exist: --user-directory checks). */
export function comfyArgs(options: {
  port: number;
  directories: ReturnType<typeof comfyDirectories>;
  pathsFile: string;
}): string[] {
  const { directories } = options;
  return [
    '--listen',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--disable-metadata',
    '--input-directory',
    directories.input,
    '--output-directory',
    directories.output,
    '--temp-directory',
    directories.temp,
    '--user-directory',
    directories.user,
    '--database-url',
    `sqlite:///${join(directories.user, 'comfyui.db')}`,
    '--extra-model-paths-config',
    options.pathsFile,
  ];
}

/**
 * A loopback port nobody listens on now, as the kernel hands one out. Another worker on the host could
 * take it before ComfyUI binds it; ComfyUI then fails to start and the supervisor's restart budget
 * applies, as for any start that fails.
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ComfySupervisorOptions {
  /** The interpreter, e.g. the python of ComfyUI's environment. */
  command: string;
  /** Arguments before ComfyUI's own, e.g. [<COMFYUI_DIR>/main.py]. */
  entry: string[];
  cwd?: string;
  port: number;
  /** Gets input/, output/, temp/ and the extra model paths file. */
  workDir: string;
  /** MODEL_CACHE_DIR, and the model folders in it. */
  modelCacheDir: string;
  modelFolders: readonly string[];
  /** Further ComfyUI flags (e.g. --highvram). */
  extraArgs?: readonly string[];
  maxRestarts: number;
  readyTimeoutMs: number;
  /** Defaults to `comfyReadiness`. */
  waitUntilReady?: ReadinessProbe;
  env?: NodeJS.ProcessEnv;
  onEvent?: (event: SupervisorEvent) => void;
  /**
   * Each line ComfyUI writes (progress bars split at their carriage returns), so that the worker logs
   * it as a structured line of its own. Without it ComfyUI writes straight to the worker's stdout.
   */
  onOutput?: (line: ComfyOutputLine) => void;
}

export interface ComfyOutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** Calls `emit` with each non-blank line of `stream`; `\r` ends a line too (tqdm redraws with it). */
function forwardLines(stream: Readable, emit: (text: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split(/\r\n|\r|\n/);
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') emit(line);
  });
  stream.on('end', () => {
    if (rest.trim() !== '') emit(rest);
  });
}

export type SupervisorEvent =
  | { kind: 'started'; pid: number | undefined; ms: number; attempt: number }
  | { kind: 'exited'; pid: number | undefined; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'gave-up'; restarts: number };

export class ComfySupervisor {
  readonly url: string;
  private child: ChildProcess | undefined;
  private ready: Promise<void> = Promise.reject(new Error('ComfyUI has not been started'));
  private restartCount = 0;
  private stopping = false;

  constructor(private readonly options: ComfySupervisorOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    this.ready.catch(() => {});
  }

  /** The running ComfyUI process, for PID-based fail-fast while a request runs. */
  get process(): ChildProcess | undefined {
    return this.child;
  }

  get restarts(): number {
    return this.restartCount;
  }

  /**
   * A watch that always follows the current ComfyUI process, across restarts, so the client's
   * fail-fast on a dead process keeps working after the supervisor replaced it.
   */
  watch(): ProcessWatch {
    let cached: { child: ChildProcess; watch: ProcessWatch } | undefined;
    const current = (): ProcessWatch => {
      const child = this.child;
      if (child === undefined) throw new EngineCrashedError('ComfyUI has not been started');
      if (cached?.child !== child) {
        cached?.watch.dispose();
        cached = { child, watch: watchProcess(child) };
      }
      return cached.watch;
    };
    return {
      get pid() {
        return current().pid;
      },
      get exited() {
        return current().exited;
      },
      hasExited: () => current().hasExited(),
      onExit: (listener) => current().onExit(listener),
      dispose: () => cached?.watch.dispose(),
    };
  }

  /** Starts ComfyUI and resolves once it answers; rejects with EngineCrashedError if it dies first. */
  async start(): Promise<void> {
    this.stopping = false;
    this.ready = this.launch(1);
    this.ready.catch(() => {});
    return this.ensureRunning();
  }

  /**
   * Call before each request: resolves once ComfyUI is up, restarting it first if it died since the
   * last request. Rejects with EngineCrashedError once the restarts are spent: then exit non-zero.
   */
  async ensureRunning(): Promise<void> {
    for (;;) {
      const current = this.ready;
      try {
        return await current;
      } catch (error) {
        // A death during start has already scheduled a restart: wait for that one instead.
        if (this.ready === current) throw error;
      }
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  private async launch(attempt: number): Promise<void> {
    const { options } = this;
    const started = performance.now();
    const directories = comfyDirectories(options.workDir);
    await Promise.all(Object.values(directories).map((path) => mkdir(path, { recursive: true })));
    const pathsFile = join(options.workDir, 'extra_model_paths.yaml');
    await writeFile(pathsFile, extraModelPathsYaml(options.modelCacheDir, options.modelFolders));
    const child = spawn(
      options.command,
      [
        ...options.entry,
        ...comfyArgs({ port: options.port, directories, pathsFile }),
        ...(options.extraArgs ?? []),
      ],
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: [
          'ignore',
          options.onOutput === undefined ? 'inherit' : 'pipe',
          options.onOutput === undefined ? 'inherit' : 'pipe',
        ],
      },
    );
    const { onOutput } = options;
    if (onOutput !== undefined) {
      if (child.stdout !== null) forwardLines(child.stdout, (text) => onOutput({ stream: 'stdout', text }));
      if (child.stderr !== null) forwardLines(child.stderr, (text) => onOutput({ stream: 'stderr', text }));
    }
    this.child = child;
    child.once('exit', (code, signal) => this.onExit(child, code, signal));
    const ready = options.waitUntilReady ?? comfyReadiness;
    await ready({ url: this.url, child, timeoutMs: options.readyTimeoutMs });
    options.onEvent?.({ kind: 'started', pid: child.pid, ms: performance.now() - started, attempt });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.options.onEvent?.({ kind: 'exited', pid: child.pid, code, signal });
    if (this.stopping || child !== this.child) return;
    if (this.restartCount >= this.options.maxRestarts) {
      this.options.onEvent?.({ kind: 'gave-up', restarts: this.restartCount });
      this.ready = Promise.reject(
        new EngineCrashedError(
          `ComfyUI died again after ${this.restartCount} restart(s); this worker gives up so that another host takes the work`,
          { details: { restarts: this.restartCount, exit_code: code, signal } },
        ),
      );
      this.ready.catch(() => {});
      return;
    }
    this.restartCount += 1;
    // Restart at once, not at the next request, so that the restart overlaps the wait for work.
    this.ready = this.launch(this.restartCount + 1);
    this.ready.catch(() => {});
  }
}
