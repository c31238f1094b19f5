import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ComfyUnavailableError, EngineCrashedError } from '../../../../contracts/errors.js';
import { type SystemStats, SystemStatsSchema } from './comfy-messages.js';

export interface ProcessExit {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The ComfyUI process Heritage started, watched so that its death is noticed at once. */
export interface ProcessWatch {
  readonly pid: number | undefined;
  /** Resolves when the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /** Calls `listener` once when the process exits (at once if it has); returns the unsubscribe. */
  onExit(listener: (exit: ProcessExit) => void): () => void;
  /** Stops polling (a PID watch); the child-process watch needs no cleanup. */
  dispose(): void;
}

/**
 * Watches a ChildProcess through its exit event, or a bare PID (a process we did not spawn) by
 * probing it with signal 0 every `pollMs`.
 */
export function watchProcess(target: ChildProcess | number, pollMs = 250): ProcessWatch {
  if (typeof target !== 'number') {
    const watch = exitSignal(target.pid, () => {});
    if (target.exitCode !== null || target.signalCode !== null) {
      watch.report({ pid: target.pid, code: target.exitCode, signal: target.signalCode });
    } else {
      target.once('exit', (code, signal) => watch.report({ pid: target.pid, code, signal }));
    }
    return watch;
  }
  const probe = () => {
    if (!isAlive(target)) watch.report({ pid: target, code: null, signal: null });
  };
  const timer = setInterval(probe, pollMs);
  timer.unref();
  const watch = exitSignal(target, () => clearInterval(timer));
  probe();
  return watch;
}

/** Listeners are kept in a set, not chained on the promise, so that finished runs can let go of them. */
function exitSignal(
  pid: number | undefined,
  stop: () => void,
): ProcessWatch & { report(exit: ProcessExit): void } {
  let exit: ProcessExit | undefined;
  let resolveExit: (exit: ProcessExit) => void = () => {};
  const exited = new Promise<ProcessExit>((resolve) => {
    resolveExit = resolve;
  });
  const listeners = new Set<(exit: ProcessExit) => void>();
  return {
    pid,
    exited,
    hasExited: () => exit !== undefined,
    onExit(listener) {
      if (exit !== undefined) {
        const known = exit;
        queueMicrotask(() => listener(known));
        return () => {};
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: stop,
    report(value) {
      if (exit !== undefined) return;
      exit = value;
      stop();
      resolveExit(value);
      for (const listener of listeners) listener(value);
      listeners.clear();
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A killed process that its parent has not reaped yet still answers signal 0, but it is dead. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export function crashedError(exit: ProcessExit, during: string): EngineCrashedError {
  const how =
    exit.signal !== null
      ? `signal ${exit.signal}`
      : exit.code !== null
        ? `exit code ${exit.code}`
        : 'no exit status (not a child of this worker)';
  return new EngineCrashedError(`ComfyUI (pid ${exit.pid ?? 'unknown'}) died ${during}: ${how}`, {
    details: { pid: exit.pid, exit_code: exit.code, signal: exit.signal },
  });
}

export interface WaitForReadyOptions {
  url: string;
  /** When given, its death ends the wait at once with EngineCrashedError instead of polling to the timeout. */
  process?: ProcessWatch;
  timeoutMs: number;
  intervalMs?: number;
}

/** Polls GET /system_stats until ComfyUI answers; returns what it reported. */
export async function waitForReady(options: WaitForReadyOptions): Promise<SystemStats> {
  const { url, process: watch, timeoutMs, intervalMs = 500 } = options;
  const deadline = Date.now() + timeoutMs;
  const stop = new AbortController();
  let exit: ProcessExit | undefined;
  const stopWatching = watch?.onExit((value) => {
    exit = value;
    stop.abort();
  });
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (exit !== undefined) throw crashedError(exit, 'while starting');
      try {
        const response = await fetch(new URL('system_stats', withSlash(url)), {
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(Math.max(1, deadline - Date.now()))]),
        });
        if (response.ok) return SystemStatsSchema.parse(await response.json());
        lastError = new Error(`HTTP ${response.status}`);
      } catch (error) {
        lastError = error;
      }
      if (exit !== undefined) throw crashedError(exit, 'while starting');
      await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), undefined, {
        signal: stop.signal,
      }).catch(() => {});
    }
  } finally {
    stopWatching?.();
    stop.abort();
  }
  if (exit !== undefined) throw crashedError(exit, 'while starting');
  throw new ComfyUnavailableError(`ComfyUI at ${url} did not answer within ${timeoutMs} ms`, {
    cause: lastError,
    details: { url, timeout_ms: timeoutMs },
  });
}

export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
