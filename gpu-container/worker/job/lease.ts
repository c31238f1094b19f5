/**
 * The worker's side of a request's lease (contracts/lifecycle/transitions.ts): while it holds the lease
 * it may render and write the request's outputs; once the lease is lost it stops before writing another
 * byte. Other paths fail a running request only after its lease lapsed by their clock; the worker stops
 * `marginMs` before the lapse by its own, so clocks may disagree by up to the margin.
 */
import { LeaseLostError } from '../../../contracts/errors.js';
import type { ObjectStore, PutOptions } from '../../../contracts/ports.js';

export class LeaseGuard {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly requestId: string,
    expiresAt: string,
    private readonly marginMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.renewed(expiresAt);
  }

  /** Aborts when the lease is lost, with a LeaseLostError as the reason. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get held(): boolean {
    return !this.controller.signal.aborted;
  }

  /** The holder renewed the lease: it now lapses at `expiresAt`. */
  renewed(expiresAt: string): void {
    if (!this.held) return;
    clearTimeout(this.timer);
    const stopAt = Date.parse(expiresAt) - this.marginMs;
    this.timer = setTimeout(
      () => this.lost(`its lease lapses at ${expiresAt} and was not renewed in time`),
      Math.max(0, stopAt - this.now()),
    );
    this.timer.unref();
  }

  /** Something showed the lease is gone (a declined renewal, a failed visibility extension). */
  lost(why: string): void {
    if (!this.held) return;
    clearTimeout(this.timer);
    this.controller.abort(new LeaseLostError(`worker no longer holds request ${this.requestId}: ${why}`));
  }

  /** Throws the LeaseLostError when the lease is gone. */
  assertHeld(): void {
    if (!this.held) throw this.controller.signal.reason;
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** An ObjectStore whose writes happen only while the lease is held: outputs never land after a loss. */
export function guardedStore(store: ObjectStore, guard: LeaseGuard): ObjectStore {
  return {
    head: (key) => store.head(key),
    get: (key, range, options) => store.get(key, range, options),
    delete: (key) => store.delete(key),
    list: (prefix) => store.list(prefix),
    put: (key: string, body: Uint8Array | string, options?: PutOptions) => {
      guard.assertHeld();
      return store.put(key, body, options);
    },
  };
}
