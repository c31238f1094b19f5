import { fork } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type CpuUsage, cpuSpread, formatCpuSpread, readChildCpu } from '../../bench/store-cpu.js';

const usage = (userMs: number, systemMs: number): CpuUsage => ({
  user: userMs * 1000,
  system: systemMs * 1000,
});

describe('store-side CPU of the model-provisioning benchmark', () => {
  it('reports the busiest process and the sum over processes, in cores of the run wall time', () => {
    // Prepare: two processes over a 2 s run, one that used 1.5 s of CPU and one that used 0.5 s.
    const before = [usage(400, 100), usage(1000, 0)];
    const after = [usage(1400, 600), usage(1300, 200)];

    // Act
    const spread = cpuSpread(before, after, 2000);

    // Assess
    expect(spread).toEqual({ processes: 2, maxCores: 0.75, sumCores: 1 });
    expect(formatCpuSpread('emulators', spread)).toBe('emulators 2 x max 0.75 / sum 1.00 cores');
  });

  it('refuses samples of different processes before and after', () => {
    expect(() => cpuSpread([usage(1, 1)], [usage(1, 1), usage(2, 2)], 1000)).toThrow(
      'CPU samples of different processes',
    );
  });

  it("reads a forked child's own CPU time over its IPC channel", async () => {
    // Prepare: a child that answers probes as the store processes do.
    const child = fork('test/bench/cpu-probe-child.ts', [], { execArgv: ['--import', 'tsx'] });
    try {
      await once(child, 'message');
      const before = await readChildCpu(child);

      // Act: the child hashes 256 MiB, CPU time that only it spends.
      child.send({ hashMiB: 256 });
      await once(child, 'message');
      const after = await readChildCpu(child);

      // Assess
      expect(after.user).toBeGreaterThan(before.user);
      expect(cpuSpread([before], [after], 1000).sumCores).toBeGreaterThan(0);
    } finally {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }
  });
});
