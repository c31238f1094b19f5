import { describe, expect, it } from 'vitest';
import { parseRequestsKey } from '../../../contracts/keys.js';
import type { StatusDocument } from '../../../contracts/lifecycle/status.js';
import {
  claimedStatus,
  fail,
  holds,
  leaseLive,
  progress,
  requeue,
  start,
  succeed,
} from '../../../contracts/lifecycle/transitions.js';

const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const LEASE_MS = 60_000;
const error = { code: 'WORKER_CRASHED' as const, message: 'x', retryable: false };

function queued(): StatusDocument {
  return claimedStatus({
    requestId: 'r-1',
    deliveryId: 'm-1',
    seed: 7,
    parameters: { steps: 8, resolution: 480, frame_length: 17, seed: 7, interpolation: 2 },
    manifestEtag: '"e"',
    now: T0,
  });
}

function startedBy(token: string, when: Date, from: StatusDocument = queued()): StatusDocument {
  const next = start({ workerId: `w-${token}`, token, leaseMs: LEASE_MS, now: when })(from);
  if (next === undefined) throw new Error('start declined');
  return next;
}

describe('request lease', () => {
  it('gives a started request to one attempt, and a second holder of its message is turned away', () => {
    // Act
    const first = startedBy('a', at(0));
    const second = start({ workerId: 'w-b', token: 'b', leaseMs: LEASE_MS, now: at(30) })(first);

    // Assess
    expect(holds(first, 'a')).toBe(true);
    expect(first.lease?.expires_at).toBe(at(60).toISOString());
    expect(second).toBeUndefined();
  });

  it('lets a new attempt take over once the lease lapsed, counting the attempt', () => {
    // Act
    const taken = startedBy('b', at(61), startedBy('a', at(0)));

    // Assess
    expect([taken.attempt, taken.worker_id, holds(taken, 'a'), holds(taken, 'b')]).toEqual([
      2,
      'w-b',
      false,
      true,
    ]);
  });

  it('renews only for its holder, and a renewal pushes the lapse out', () => {
    // Prepare
    const running = startedBy('a', at(0));

    // Act
    const renewed = progress({ token: 'a', leaseMs: LEASE_MS, now: at(50) })(running);
    const stranger = progress({ token: 'b', leaseMs: LEASE_MS, now: at(50) })(running);

    // Assess
    expect(renewed?.lease?.expires_at).toBe(at(110).toISOString());
    expect(leaseLive(renewed as StatusDocument, at(100))).toBe(true);
    expect(stranger).toBeUndefined();
  });

  it('lets only the holder requeue, succeed or fail its attempt, and drops the lease when it does', () => {
    // Prepare
    const running = startedBy('a', at(0));

    // Act
    const moves = {
      requeue: [requeue({ token: 'b', now: at(1) })(running), requeue({ token: 'a', now: at(1) })(running)],
      succeed: [
        succeed({ token: 'b', resultKey: 'k', now: at(1) })(running),
        succeed({ token: 'a', resultKey: 'k', now: at(1) })(running),
      ],
      fail: [
        fail({ token: 'b', error, now: at(1) })(running),
        fail({ token: 'a', error, now: at(1) })(running),
      ],
    };

    // Assess
    for (const [strangers, holder] of Object.values(moves)) {
      expect(strangers).toBeUndefined();
      expect(holder?.lease).toBeUndefined();
    }
    expect(moves.succeed[1]?.state).toBe('succeeded');
    expect(moves.requeue[1]?.state).toBe('queued');
  });

  it('lets another path fail a running request only once its lease lapsed', () => {
    // Prepare
    const running = startedBy('a', at(0));

    // Act
    const whileHeld = fail({ error, now: at(59) })(running);
    const afterLapse = fail({ error, now: at(61) })(running);

    // Assess
    expect(whileHeld).toBeUndefined();
    expect(afterLapse).toMatchObject({ state: 'failed', error });
    expect(afterLapse?.lease).toBeUndefined();
  });

  it('keeps the accepted parameters from the claim on, for every event of the request', () => {
    expect(startedBy('a', at(0)).parameters).toEqual({
      steps: 8,
      resolution: 480,
      frame_length: 17,
      seed: 7,
      interpolation: 2,
    });
  });
});

describe('requests/ keys', () => {
  it('tells the status and the published marker apart from other files, and ignores invalid ids', () => {
    expect(parseRequestsKey('requests/r-1/status.json')).toEqual({ requestId: 'r-1', kind: 'status' });
    expect(parseRequestsKey('requests/r-1/event.published')).toEqual({ requestId: 'r-1', kind: 'published' });
    expect(parseRequestsKey('requests/r-1/event.json')).toEqual({ requestId: 'r-1', kind: 'other' });
    expect(parseRequestsKey('requests/r-1/inputs/start.png')).toBeUndefined();
    expect(parseRequestsKey('requests/..bad/status.json')).toBeUndefined();
  });
});
