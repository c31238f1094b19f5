/**
 * The terminal-event outbox: requests/<id>/event.json holds the one completion event of a request and
 * its owner, claimed with If-None-Match before the event is published; requests/<id>/event.published
 * is created once SNS took it. Everybody checks the marker first, so an event that went out is never
 * sent again from another path. The owner's own retry, or anyone once the claim is older than the
 * lease, finishes a publication that was cut short, always with the first body stored. An owner whose
 * publish SNS refused outright (a 4xx) gives its claim up at once, so the retry, a new owner, need not
 * wait out the lease. A 5xx or a timeout leaves it open whether SNS took the event; the owner's call has
 * returned, though, so its claim is cut to PUBLISH_SETTLE_MS: long enough for a request SNS may still
 * be handling to end, and no longer, so that after an SNS outage the event goes out within a reconcile
 * run instead of waiting out a Lambda's 16-minute lease.
 *
 * Owners are unique per attempt: a worker's lease token, a Lambda's SQS delivery. Each claim records
 * how long its owner may take (a worker: its request lease, a Lambda: longer than it may run), and
 * every call that can still be in flight after that has timed out by then. The one window left
 * is SNS accepting the event and the marker write failing for good (retried, see MARK_ATTEMPTS): after
 * the lease another path publishes the same body again. Subscribers that must be exact dedupe on
 * `request_id` + `type` (docs/reliability.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { TransientError } from '../errors.js';
import { type CompletionEvent, CompletionEventSchema } from '../event.js';
import { type OutboxKeys, requestKeys } from '../keys.js';
import { type EventPublisher, isPreconditionFailed, type ObjectStore } from '../ports.js';

export const EventOutboxSchema = z.object({
  version: z.literal(1),
  owner: z.string().describe('The attempt publishing the event: a worker lease token or an SQS delivery id.'),
  claimed_at: z.string(),
  lease_ms: z
    .number()
    .positive()
    .describe('How long the owner may take: past claimed_at + lease_ms anyone may take the claim over.'),
  released_at: z
    .string()
    .optional()
    .describe('Set when the owner gave the claim up because SNS refused the event: anyone may take it over.'),
  event: CompletionEventSchema,
});

export type EventOutbox = z.infer<typeof EventOutboxSchema>;

/** Longer than any Lambda may run: a claim this old belongs to an invocation that is gone. */
export const DEFAULT_OUTBOX_LEASE_MS = 16 * 60 * 1000;
/**
 * How long a claim still holds after its owner's publish failed unclearly (a 5xx, a timeout): longer
 * than SNS may go on handling a request its client gave up on (every call times out after 30 s of
 * silence, adapters/aws/call-timeouts.ts).
 */
export const PUBLISH_SETTLE_MS = 60_000;
/** Tries at the published marker after SNS accepted, with a doubling pause from MARK_BACKOFF_MS (~30 s in all). */
export const MARK_ATTEMPTS = 6;
const MARK_BACKOFF_MS = 500;

export interface TerminalEventDeps {
  objects: ObjectStore;
  events: EventPublisher;
  now: () => Date;
  /** Pause between marker attempts; tests shorten it. */
  sleep?: (ms: number) => Promise<unknown>;
}

export type PublishOutcome = 'published' | 'already-published';

/** Whether the request's terminal event went out (its marker exists). */
export async function eventPublished(objects: ObjectStore, requestId: string): Promise<boolean> {
  return (await objects.head(requestKeys(requestId).eventPublished)) !== undefined;
}

/** Whether the owner's time to publish has run out, so that anyone may take the claim over. */
export function claimLapsed(outbox: EventOutbox, now: Date): boolean {
  return outbox.released_at !== undefined || now.getTime() - Date.parse(outbox.claimed_at) > outbox.lease_ms;
}

/**
 * Whether SNS answered the publish with a refusal (a 4xx: throttled, KMS key disabled, denied), so the
 * event certainly did not go out. A timeout, a dropped connection or a 5xx leaves that open.
 */
function refused(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The request's terminal-event outbox as stored, or undefined when nobody claimed it yet. */
export async function readOutbox(
  objects: ObjectStore,
  requestId: string,
): Promise<{ doc: EventOutbox; etag: string } | undefined> {
  return readOutboxAt(objects, requestKeys(requestId).event);
}

async function readOutboxAt(
  objects: ObjectStore,
  key: string,
): Promise<{ doc: EventOutbox; etag: string } | undefined> {
  const object = await objects.get(key);
  if (object === undefined) return undefined;
  return {
    doc: EventOutboxSchema.parse(JSON.parse(new TextDecoder().decode(object.body))),
    etag: object.etag,
  };
}

async function claim(
  deps: TerminalEventDeps,
  event: CompletionEvent,
  key: string,
  owner: string,
  leaseMs: number,
): Promise<{ doc: EventOutbox; etag: string }> {
  const now = deps.now();
  const fresh: EventOutbox = { version: 1, owner, claimed_at: now.toISOString(), lease_ms: leaseMs, event };
  try {
    const { etag } = await deps.objects.put(key, JSON.stringify(fresh), {
      contentType: 'application/json',
      ifNoneMatch: '*',
    });
    return { doc: fresh, etag };
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
  }
  const existing = await readOutboxAt(deps.objects, key);
  if (existing === undefined)
    throw new TransientError(`event outbox of ${event.request_id} vanished while being read`);
  const stale = claimLapsed(existing.doc, now);
  if (existing.doc.owner !== owner && !stale) {
    throw new TransientError(
      `the ${event.status} event of ${event.request_id} is being published by another attempt`,
    );
  }
  // The first claimed event is the one published, so every retry sends the same body.
  const { released_at: _released, ...kept } = existing.doc;
  const taken: EventOutbox = { ...kept, owner, claimed_at: now.toISOString(), lease_ms: leaseMs };
  try {
    const { etag } = await deps.objects.put(key, JSON.stringify(taken), {
      contentType: 'application/json',
      ifMatch: existing.etag,
    });
    return { doc: taken, etag };
  } catch (error) {
    if (isPreconditionFailed(error)) {
      throw new TransientError(`another attempt took over the event of ${event.request_id}`, {
        cause: error,
      });
    }
    throw error;
  }
}

async function release(
  deps: TerminalEventDeps,
  key: string,
  claimed: { doc: EventOutbox; etag: string },
): Promise<void> {
  const released: EventOutbox = { ...claimed.doc, released_at: deps.now().toISOString() };
  await deps.objects.put(key, JSON.stringify(released), {
    contentType: 'application/json',
    ifMatch: claimed.etag,
  });
}

/** Cuts the claim to lapse PUBLISH_SETTLE_MS from now, unless it lapses sooner anyway. */
async function settle(
  deps: TerminalEventDeps,
  key: string,
  claimed: { doc: EventOutbox; etag: string },
): Promise<void> {
  const elapsed = deps.now().getTime() - Date.parse(claimed.doc.claimed_at);
  const leaseMs = Math.min(claimed.doc.lease_ms, Math.max(1, elapsed + PUBLISH_SETTLE_MS));
  if (leaseMs === claimed.doc.lease_ms) return;
  await deps.objects.put(key, JSON.stringify({ ...claimed.doc, lease_ms: leaseMs }), {
    contentType: 'application/json',
    ifMatch: claimed.etag,
  });
}

/**
 * Writes the marker, retrying: after SNS accepted, every failed try is a window for a second publish.
 * Its body says what went out and when, for whoever reads the bucket (an empty body would also leave
 * the S3 client unsure of the length).
 */
async function markPublished(deps: TerminalEventDeps, marker: string, sent: EventOutbox): Promise<void> {
  const pause = deps.sleep ?? sleep;
  const requestId = sent.event.request_id;
  const body = JSON.stringify({
    request_id: requestId,
    status: sent.event.status,
    owner: sent.owner,
    published_at: deps.now().toISOString(),
  });
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.objects.put(marker, body, {
        contentType: 'application/json',
        ifNoneMatch: '*',
      });
      return;
    } catch (error) {
      if (isPreconditionFailed(error)) return;
      if (attempt >= MARK_ATTEMPTS) throw error;
      await pause(MARK_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }
}

/**
 * Publishes the request's terminal event unless it already went out. `outbox` names another outbox,
 * for the one event that is not a request's terminal event: an upload rejected (keys.ts
 * `rejectedUpload`), which must go out whatever became of the request.
 */
export async function publishTerminalEvent(
  deps: TerminalEventDeps,
  event: CompletionEvent,
  options: { owner: string; leaseMs?: number; outbox?: OutboxKeys },
): Promise<PublishOutcome> {
  const keys = requestKeys(event.request_id);
  const outbox = options.outbox ?? { event: keys.event, published: keys.eventPublished };
  if ((await deps.objects.head(outbox.published)) !== undefined) return 'already-published';
  const leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
  const claimed = await claim(deps, event, outbox.event, options.owner, leaseMs);
  try {
    await deps.events.publish(claimed.doc.event);
  } catch (error) {
    // Refused for certain: give the claim up, so the next attempt (a retry has a new owner) publishes at
    // once instead of waiting out this one's lease. Anything less certain keeps the claim until a request
    // SNS may still be handling has ended.
    if (refused(error)) await release(deps, outbox.event, claimed).catch(() => undefined);
    else await settle(deps, outbox.event, claimed).catch(() => undefined);
    throw error;
  }
  await markPublished(deps, outbox.published, claimed.doc);
  return 'published';
}
