import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import type { StatusRecord, StatusStore } from '../../contracts/ports.js';
import { ProgressReporter } from '../../gpu-container/worker/job/progress-reporter.js';
import { silentLog } from '../../gpu-container/worker/log.js';

const TOKEN = 'attempt-1';
const lease = { token: TOKEN, leaseMs: 60_000 };

/** An in-memory StatusStore that records each write it accepts. */
function memoryStatuses(
  state: StatusDocument['state'] = 'running',
): StatusStore & { writes: StatusDocument[]; writtenAt: number[] } {
  let current: StatusDocument = {
    version: 1,
    request_id: 'p-1',
    state,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    ...(state === 'running'
      ? { lease: { token: TOKEN, holder: 'w-1', expires_at: '2026-01-01T00:01:00.000Z' } }
      : {}),
  };
  const writes: StatusDocument[] = [];
  const writtenAt: number[] = [];
  return {
    writes,
    writtenAt,
    async create() {
      return false;
    },
    async read(): Promise<StatusRecord> {
      return { status: current, etag: '"1"' };
    },
    async update(_id, update) {
      const next = update(current);
      if (next === undefined) return undefined;
      current = next;
      writes.push(next);
      writtenAt.push(Date.now());
      return { status: next, etag: '"2"' };
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressReporter', () => {
  it('writes at most once per interval, and the latest value wins', async () => {
    // Prepare
    const statuses = memoryStatuses();
    const reporter = new ProgressReporter({
      statuses,
      requestId: 'p-1',
      ...lease,
      log: silentLog,
      intervalMs: 2_000,
    });

    // Act
    for (let i = 0; i <= 50; i++) {
      reporter.report({ percent: i, phase: 'rendering' });
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(2_000);
    await reporter.close();

    // Assess: 5 s of reports at 10 per second -> the first at once, then one per 2 s, the last one kept.
    const gaps = statuses.writtenAt.slice(1).map((t, i) => t - (statuses.writtenAt[i] ?? 0));
    expect(gaps.length).toBe(3);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2_000);
    const percents = statuses.writes.map((w) => w.progress?.percent);
    expect([percents[0], percents.at(-1)]).toEqual([0, 50]);
  });

  it('writes nothing after close, so no progress lands on a terminal status', async () => {
    // Prepare
    const statuses = memoryStatuses();
    const reporter = new ProgressReporter({
      statuses,
      requestId: 'p-1',
      ...lease,
      log: silentLog,
      intervalMs: 2_000,
    });
    reporter.report({ percent: 10, phase: 'rendering' });
    reporter.report({ percent: 20, phase: 'rendering' });

    // Act
    await reporter.close();
    reporter.report({ percent: 30, phase: 'rendering' });
    await vi.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(statuses.writes.map((w) => w.progress?.percent)).toEqual([10]);
  });

  it('declines to write once the request is no longer running', async () => {
    // Prepare
    const statuses = memoryStatuses('failed');
    const reporter = new ProgressReporter({ statuses, requestId: 'p-1', ...lease, log: silentLog });

    // Act
    reporter.report({ percent: 10, phase: 'rendering' });
    await reporter.heartbeat();
    await reporter.close();

    // Assess
    expect(statuses.writes).toEqual([]);
  });

  it('renews the lease with every write, and reports a write the status declines as a lost lease', async () => {
    // Prepare
    const held = memoryStatuses();
    const taken = memoryStatuses();
    await taken.update('p-1', (s) => ({
      ...s,
      lease: { token: 'attempt-2', holder: 'w-2', expires_at: s.updated_at },
    }));
    const renewals: string[] = [];
    const losses: string[] = [];
    const watch = { onRenewed: (at: string) => renewals.push(at), onLost: (why: string) => losses.push(why) };

    // Act
    const mine = new ProgressReporter({
      statuses: held,
      requestId: 'p-1',
      ...lease,
      ...watch,
      log: silentLog,
    });
    await mine.heartbeat();
    await mine.close();
    const theirs = new ProgressReporter({
      statuses: taken,
      requestId: 'p-1',
      ...lease,
      ...watch,
      log: silentLog,
    });
    await theirs.heartbeat();
    await theirs.close();

    // Assess
    expect(renewals).toEqual([new Date(Date.now() + 60_000).toISOString()]);
    expect(losses).toEqual(['status is no longer held by this attempt']);
  });
});
