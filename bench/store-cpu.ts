/**
 * CPU time of a benchmark's forked store side (emulator and network-model processes), asked of each
 * child over its IPC channel, so that a run line can show whether the store, not the downloader, sets
 * the pace. Each child reports its own process.cpuUsage(): portable, and it counts all the child's threads.
 */
import type { ChildProcess } from 'node:child_process';
import { z } from 'zod';

const CPU_PROBE = { cpuProbe: true } as const;

const CpuReplySchema = z.object({
  cpuUsage: z.object({
    user: z.number().describe('user CPU time of the child, in microseconds'),
    system: z.number().describe('system CPU time of the child, in microseconds'),
  }),
});

export type CpuUsage = z.infer<typeof CpuReplySchema>['cpuUsage'];

/** In a forked child: answer each CPU probe from the parent with this process's CPU time so far. */
export function answerCpuProbes(): void {
  process.on('message', (message) => {
    if (typeof message === 'object' && message !== null && 'cpuProbe' in message) {
      process.send?.({ cpuUsage: process.cpuUsage() });
    }
  });
}

/** The CPU time a forked child (one that calls answerCpuProbes) has used since it started. */
export function readChildCpu(child: ChildProcess): Promise<CpuUsage> {
  return new Promise((resolve, reject) => {
    const settle = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      const reply = CpuReplySchema.safeParse(message);
      if (!reply.success) return;
      settle();
      resolve(reply.data.cpuUsage);
    };
    const onExit = () => {
      settle();
      reject(new Error(`process ${child.pid} exited before reporting its CPU time`));
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.send(CPU_PROBE);
  });
}

/** How a group of processes used the CPU over one interval, in cores (CPU seconds per wall second). */
export interface CpuSpread {
  processes: number;
  /** The busiest process: near 1 means it was bound by its one JavaScript thread. */
  maxCores: number;
  sumCores: number;
}

/** The spread of the CPU time used between `before` and `after` (same processes, same order) over `ms` of wall time. */
export function cpuSpread(before: readonly CpuUsage[], after: readonly CpuUsage[], ms: number): CpuSpread {
  if (before.length !== after.length) throw new Error('CPU samples of different processes');
  const cores = after.map((end, index) => {
    const start = before[index] ?? { user: 0, system: 0 };
    return (end.user - start.user + end.system - start.system) / 1000 / ms;
  });
  return {
    processes: cores.length,
    maxCores: Math.max(0, ...cores),
    sumCores: cores.reduce((sum, used) => sum + used, 0),
  };
}

/** E.g. `emulators 4 x max 0.93 / sum 3.10 cores`. */
export function formatCpuSpread(name: string, spread: CpuSpread): string {
  return `${name} ${spread.processes} x max ${spread.maxCores.toFixed(2)} / sum ${spread.sumCores.toFixed(2)} cores`;
}
