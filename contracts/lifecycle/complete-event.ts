/**
 * Finishes the terminal event of a request whose status is terminal but whose event did not go out
 * (a crash, or an SNS or KMS outage, after the status was marked). Dead-letter and reconcile call it;
 * the outbox's rules still hold, so a publication under way is left to its owner until its lease
 * lapses, and an event that went out is never sent again.
 */

import { requestKeys } from '../keys.js';
import type { ObjectStore, StatusStore } from '../ports.js';
import { type Result, ResultSchema } from '../result.js';
import { failureEvent, succeededEvent } from './completion-event.js';
import { isTerminal, type StatusDocument } from './status.js';
import {
  claimLapsed,
  DEFAULT_OUTBOX_LEASE_MS,
  eventPublished,
  publishTerminalEvent,
  readOutbox,
  type TerminalEventDeps,
} from './terminal-event.js';
import { succeedCommitted } from './transitions.js';

export type CompletionOutcome =
  /** This call published it. */
  | 'published'
  | 'already-published'
  /** Its writer may still be publishing it (a fresh outbox claim, or a status changed within the grace). */
  | 'pending'
  /** succeeded without a readable result.json: nothing to describe the frames with. */
  | 'missing-result';

export interface CompleteEventOptions {
  owner: string;
  leaseMs?: number;
  /** A terminal status younger than this, with no outbox yet, is left to the path that wrote it. */
  graceMs: number;
}

/** A request's committed result.json, or undefined when there is none (or it is not one). */
export async function readCommittedResult(
  objects: ObjectStore,
  requestId: string,
): Promise<Result | undefined> {
  const object = await objects.get(requestKeys(requestId).result);
  if (object === undefined) return undefined;
  const parsed = ResultSchema.safeParse(JSON.parse(new TextDecoder().decode(object.body)));
  return parsed.success ? parsed.data : undefined;
}

export async function completeTerminalEvent(
  deps: TerminalEventDeps & { bucket: string },
  status: StatusDocument,
  options: CompleteEventOptions,
): Promise<CompletionOutcome> {
  const requestId = status.request_id;
  if (!isTerminal(status.state))
    throw new RangeError(`request ${requestId} is ${status.state}, not terminal`);
  if (await eventPublished(deps.objects, requestId)) return 'already-published';
  const leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const now = deps.now().getTime();
  const outbox = await readOutbox(deps.objects, requestId);
  if (outbox !== undefined) {
    if (!claimLapsed(outbox.doc, deps.now()) && outbox.doc.owner !== options.owner) return 'pending';
    return publishTerminalEvent(deps, outbox.doc.event, { owner: options.owner, leaseMs });
  }
  if (now - Date.parse(status.updated_at) < options.graceMs) return 'pending';
  if (status.state === 'succeeded') {
    const result = await readCommittedResult(deps.objects, requestId);
    if (result === undefined) return 'missing-result';
    const event = succeededEvent({
      bucket: deps.bucket,
      result,
      clientReference: status.client_reference ?? null,
    });
    return publishTerminalEvent(deps, event, { owner: options.owner, leaseMs });
  }
  const event = failureEvent({
    status: status.state,
    requestId,
    bucket: deps.bucket,
    error: status.error ?? {
      code: 'INTERNAL',
      message: `request ${requestId} ended ${status.state} without a recorded error`,
      retryable: false,
    },
    clientReference: status.client_reference,
    parameters: status.parameters,
  });
  return publishTerminalEvent(deps, event, { owner: options.owner, leaseMs });
}

export type CommittedOutcome =
  /** result.json was committed: this call marked the request succeeded and sent its event. */
  | 'succeeded'
  /** result.json was committed, but the request moved on since (its holder is back, or it ended). */
  | 'moved'
  /** No result.json: the request's outcome was never decided. */
  | 'none';

/**
 * A running request whose worker is gone (its lease lapsed) may have committed result.json before it
 * died: its outcome is decided, `succeeded`, whatever path finds it (dead-letter, reconcile). Marks it
 * so, only while it is still as `status` shows it, and publishes its succeeded event through the
 * outbox. A path about to fail such a request calls this first.
 */
export async function finishCommittedResult(
  deps: TerminalEventDeps & { bucket: string; statuses: StatusStore },
  status: StatusDocument,
  options: { owner: string; leaseMs?: number },
): Promise<CommittedOutcome> {
  const requestId = status.request_id;
  const result = await readCommittedResult(deps.objects, requestId);
  if (result === undefined) return 'none';
  const unchanged = (current: StatusDocument) =>
    current.state === 'running' && current.updated_at === status.updated_at;
  const moved = await deps.statuses.update(
    requestId,
    succeedCommitted({ resultKey: requestKeys(requestId).result, now: deps.now(), only: unchanged }),
  );
  if (moved === undefined) return 'moved';
  const event = succeededEvent({
    bucket: deps.bucket,
    result,
    clientReference: status.client_reference ?? null,
  });
  await publishTerminalEvent(deps, event, {
    owner: options.owner,
    leaseMs: options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS,
  });
  return 'succeeded';
}
