/**
 * The terminal-event outbox at requests/<id>/event.json: the one completion event of a request, claimed
 * with If-None-Match before it is published and marked once SNS took it. A retry of the same delivery
 * (same owner) or anyone after the lease finishes a publication that was cut short; everybody else sees
 * the marker and does not publish again. The one window left is a crash after SNS accepted the event
 * and before the marker was written: that event goes out twice, with the same body
 * (docs/architecture.md, "Dispatch and scaling").
 */
import { z } from 'zod';
import { TransientError } from './errors.js';
import { type CompletionEvent, CompletionEventSchema } from './event.js';
import { requestKeys } from './keys.js';
import { type EventPublisher, isPreconditionFailed, type ObjectStore } from './ports.js';

export const EventOutboxSchema = z.object({
  version: z.literal(1),
  owner: z.string().describe('The delivery publishing the event, e.g. an SQS message id.'),
  claimed_at: z.string(),
  published_at: z.string().optional(),
  event: CompletionEventSchema,
});

export type EventOutbox = z.infer<typeof EventOutboxSchema>;

/** Longer than any Lambda may run: a claim this old belongs to an invocation that is gone. */
export const DEFAULT_OUTBOX_LEASE_MS = 16 * 60 * 1000;

export interface TerminalEventDeps {
  objects: ObjectStore;
  events: EventPublisher;
  now: () => Date;
}

export type PublishOutcome = 'published' | 'already-published';

async function readOutbox(objects: ObjectStore, key: string): Promise<{ doc: EventOutbox; etag: string }> {
  const object = await objects.get(key);
  if (object === undefined) throw new TransientError(`event outbox ${key} vanished while being read`);
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
): Promise<{ doc: EventOutbox; etag: string } | 'already-published'> {
  const now = deps.now();
  const fresh: EventOutbox = { version: 1, owner, claimed_at: now.toISOString(), event };
  try {
    const { etag } = await deps.objects.put(key, JSON.stringify(fresh), {
      contentType: 'application/json',
      ifNoneMatch: '*',
    });
    return { doc: fresh, etag };
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
  }
  const existing = await readOutbox(deps.objects, key);
  if (existing.doc.published_at !== undefined) return 'already-published';
  const stale = now.getTime() - Date.parse(existing.doc.claimed_at) > leaseMs;
  if (existing.doc.owner !== owner && !stale) {
    throw new TransientError(
      `the ${event.status} event of ${event.request_id} is being published by another delivery`,
    );
  }
  // The first claimed event is the one published, so every retry sends the same body.
  const taken: EventOutbox = { ...existing.doc, owner, claimed_at: now.toISOString() };
  try {
    const { etag } = await deps.objects.put(key, JSON.stringify(taken), {
      contentType: 'application/json',
      ifMatch: existing.etag,
    });
    return { doc: taken, etag };
  } catch (error) {
    if (isPreconditionFailed(error)) {
      throw new TransientError(`another delivery took over the event of ${event.request_id}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Publishes the request's terminal event unless it already went out. `outbox` names another outbox
 * for an event that is not the request's terminal one (an upload rejected, keys.ts `rejectedUpload`).
 */
export async function publishTerminalEvent(
  deps: TerminalEventDeps,
  event: CompletionEvent,
  options: { owner: string; leaseMs?: number; outbox?: string },
): Promise<PublishOutcome> {
  const key = options.outbox ?? requestKeys(event.request_id).event;
  const claimed = await claim(deps, event, key, options.owner, options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS);
  if (claimed === 'already-published') return claimed;
  await deps.events.publish(claimed.doc.event);
  const published: EventOutbox = { ...claimed.doc, published_at: deps.now().toISOString() };
  try {
    await deps.objects.put(key, JSON.stringify(published), {
      contentType: 'application/json',
      ifMatch: claimed.etag,
    });
  } catch (error) {
    // Someone took over after our lease ran out; the event is out, and they will publish it as well.
    if (!isPreconditionFailed(error)) throw error;
  }
  return 'published';
}
