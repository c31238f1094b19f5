/** The terminal-event outbox and its completion, over the wire against the local S3/SNS emulator. */
import { ThrottledException } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../../contracts/keys.js';
import { completeTerminalEvent } from '../../../contracts/lifecycle/complete-event.js';
import { failureEvent } from '../../../contracts/lifecycle/completion-event.js';
import type { StatusDocument } from '../../../contracts/lifecycle/status.js';
import {
  eventPublished,
  MARK_ATTEMPTS,
  PUBLISH_SETTLE_MS,
  publishTerminalEvent,
} from '../../../contracts/lifecycle/terminal-event.js';
import { type Emulator, type EventListener, startEmulator } from '../../support/emulator.js';
import { RecordingObjectStore } from '../../worker/worker-fixtures.js';

let emulator: Emulator;
let listener: EventListener;
let ids = 0;
const LEASE_MS = 60_000;
const noPause = async () => {};

beforeAll(async () => {
  emulator = await startEmulator();
  listener = emulator.listen();
});
afterAll(() => emulator.stop());

const newId = () => `outbox-${process.pid}-${++ids}`;
const error = { code: 'HEARTBEAT_LOST' as const, message: 'silent', retryable: false };

function deps(overrides: { objects?: RecordingObjectStore; now?: () => Date } = {}) {
  return {
    objects: overrides.objects ?? emulator.objects,
    events: emulator.events,
    now: overrides.now ?? (() => new Date()),
    sleep: noPause,
    bucket: emulator.bucket,
  };
}

async function eventsOf(id: string) {
  return (await listener.drain()).filter((event) => event.request_id === id);
}

function failedStatus(id: string, updatedAt: Date): StatusDocument {
  return {
    version: 1,
    request_id: id,
    state: 'failed',
    created_at: updatedAt.toISOString(),
    updated_at: updatedAt.toISOString(),
    client_reference: 'order-9',
    parameters: { steps: 8, resolution: 480, frame_length: 17, seed: 5, interpolation: 2 },
    error,
  };
}

describe('terminal-event outbox', () => {
  it('publishes once and marks it, so that no other attempt sends it again', async () => {
    // Prepare
    const id = newId();
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });

    // Act
    const outcomes = [
      await publishTerminalEvent(deps(), event, { owner: 'a', leaseMs: LEASE_MS }),
      await publishTerminalEvent(deps(), event, { owner: 'b', leaseMs: LEASE_MS }),
      await publishTerminalEvent(deps(), event, { owner: 'a', leaseMs: LEASE_MS }),
    ];

    // Assess
    expect(outcomes).toEqual(['published', 'already-published', 'already-published']);
    expect(await eventPublished(emulator.objects, id)).toBe(true);
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('turns away a second attempt while the first one’s claim is fresh, whatever delivery it came from', async () => {
    // Prepare: the first attempt claims, then SNS fails it.
    const id = newId();
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });
    const down = { ...deps(), events: { publish: () => Promise.reject(new Error('SNS down')) } };
    await expect(publishTerminalEvent(down, event, { owner: 'a', leaseMs: LEASE_MS })).rejects.toThrow(
      'SNS down',
    );

    // Act
    const second = publishTerminalEvent(deps(), event, { owner: 'b', leaseMs: LEASE_MS });
    await expect(second).rejects.toThrow(/being published by another attempt/);
    const later = deps({ now: () => new Date(Date.now() + LEASE_MS + 1_000) });
    const afterLapse = await publishTerminalEvent(later, event, { owner: 'b', leaseMs: LEASE_MS });

    // Assess
    expect(afterLapse).toBe('published');
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('after an unclear failure (a 5xx, a timeout) holds its claim only until the call has surely ended, not for its whole lease', async () => {
    // Prepare: a Lambda's claim (16 min) whose publish SNS failed with a 500, as during an outage.
    const id = newId();
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });
    const sixteenMinutes = 16 * 60_000;
    const down = { ...deps(), events: { publish: () => Promise.reject(new Error('InternalFailure')) } };
    await expect(publishTerminalEvent(down, event, { owner: 'a', leaseMs: sixteenMinutes })).rejects.toThrow(
      'InternalFailure',
    );
    const at = (ms: number) => deps({ now: () => new Date(Date.now() + ms) });

    // Act: another path just inside the settle time, then just after it, long before the lease.
    const tooSoon = publishTerminalEvent(at(PUBLISH_SETTLE_MS - 5_000), event, {
      owner: 'b',
      leaseMs: sixteenMinutes,
    });
    await expect(tooSoon).rejects.toThrow(/being published by another attempt/);
    const settled = await publishTerminalEvent(at(PUBLISH_SETTLE_MS + 1_000), event, {
      owner: 'b',
      leaseMs: sixteenMinutes,
    });

    // Assess
    expect(settled).toBe('published');
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('gives its claim up when SNS refused the event, so the next attempt publishes at once', async () => {
    // Prepare: SNS answers the first attempt 400 Throttled: the event certainly did not go out.
    const id = newId();
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });
    const refusal = new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    const throttled = { ...deps(), events: { publish: () => Promise.reject(refusal) } };
    await expect(publishTerminalEvent(throttled, event, { owner: 'a', leaseMs: LEASE_MS })).rejects.toBe(
      refusal,
    );

    // Act: a retry is another attempt, with another owner, well inside the first one's lease.
    const retry = await publishTerminalEvent(deps(), event, { owner: 'b', leaseMs: LEASE_MS });

    // Assess
    expect(retry).toBe('published');
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('retries the published marker after SNS accepted, so a passing S3 fault does not send the event again', async () => {
    // Prepare: the marker PUT fails twice, then works.
    const id = newId();
    let failures = 2;
    const flaky = new RecordingObjectStore(
      emulator.objects,
      (key) => key === requestKeys(id).eventPublished && failures-- > 0,
    );
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });

    // Act
    const first = await publishTerminalEvent(deps({ objects: flaky }), event, {
      owner: 'a',
      leaseMs: LEASE_MS,
    });
    const later = deps({ now: () => new Date(Date.now() + LEASE_MS + 1_000) });
    const second = await publishTerminalEvent(later, event, { owner: 'b', leaseMs: LEASE_MS });

    // Assess
    expect([first, second]).toEqual(['published', 'already-published']);
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('leaves exactly one residual window: a marker that fails for good lets another path send it again after the lease', async () => {
    // Prepare: every marker try fails (S3 refuses for longer than the retries last).
    const id = newId();
    const broken = new RecordingObjectStore(
      emulator.objects,
      (key) => key === requestKeys(id).eventPublished,
    );
    const event = failureEvent({ status: 'failed', requestId: id, bucket: emulator.bucket, error });

    // Act
    await expect(
      publishTerminalEvent(deps({ objects: broken }), event, { owner: 'a', leaseMs: LEASE_MS }),
    ).rejects.toThrow(/injected 503/);
    const whileFresh = publishTerminalEvent(deps(), event, { owner: 'b', leaseMs: LEASE_MS });
    await expect(whileFresh).rejects.toThrow(/another attempt/);
    const later = deps({ now: () => new Date(Date.now() + LEASE_MS + 1_000) });
    await publishTerminalEvent(later, event, { owner: 'b', leaseMs: LEASE_MS });

    // Assess: the same body twice (subscribers dedupe on request_id + type; docs/reliability.md).
    const sent = await eventsOf(id);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toEqual(sent[1]);
    expect(broken.puts.filter((key) => key === requestKeys(id).eventPublished)).toEqual([]);
    expect(MARK_ATTEMPTS).toBeGreaterThanOrEqual(5);
  });
});

describe('completing a terminal event that did not go out', () => {
  it('publishes the event of a failed status from the status itself, echoing its parameters and reference', async () => {
    // Prepare: a status marked failed a minute ago, whose event never went out.
    const id = newId();
    const status = failedStatus(id, new Date(Date.now() - 60_000));

    // Act
    const outcome = await completeTerminalEvent(deps(), status, { owner: 'reconcile', graceMs: 30_000 });
    const again = await completeTerminalEvent(deps(), status, { owner: 'reconcile', graceMs: 30_000 });

    // Assess
    expect([outcome, again]).toEqual(['published', 'already-published']);
    const [event] = await eventsOf(id);
    expect(event).toMatchObject({
      status: 'failed',
      client_reference: 'order-9',
      parameters: status.parameters,
      error,
    });
  });

  it('leaves a just-marked status to its writer, and a fresh claim to its owner', async () => {
    // Prepare
    const fresh = failedStatus(newId(), new Date());
    const claimed = failedStatus(newId(), new Date(Date.now() - 60_000));
    const down = { ...deps(), events: { publish: () => Promise.reject(new Error('SNS down')) } };
    const claimedEvent = failureEvent({
      status: 'failed',
      requestId: claimed.request_id,
      bucket: emulator.bucket,
      error,
    });
    await expect(
      publishTerminalEvent(down, claimedEvent, { owner: 'worker', leaseMs: LEASE_MS }),
    ).rejects.toThrow();

    // Act
    const outcomes = [
      await completeTerminalEvent(deps(), fresh, { owner: 'reconcile', graceMs: 30_000 }),
      await completeTerminalEvent(deps(), claimed, { owner: 'reconcile', graceMs: 30_000 }),
    ];

    // Assess
    expect(outcomes).toEqual(['pending', 'pending']);
    expect(await eventsOf(fresh.request_id)).toEqual([]);
  });

  it('cannot describe a succeeded request without its result.json, and says so', async () => {
    // Prepare
    const id = newId();
    const status: StatusDocument = { ...failedStatus(id, new Date(Date.now() - 60_000)), state: 'succeeded' };

    // Act
    const outcome = await completeTerminalEvent(deps(), status, { owner: 'reconcile', graceMs: 30_000 });

    // Assess
    expect(outcome).toBe('missing-result');
    expect(await eventsOf(id)).toEqual([]);
  });
});
