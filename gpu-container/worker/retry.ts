/** Retries an operation on transient failures, with exponential backoff and full jitter. */
import { setTimeout as sleep } from 'node:timers/promises';
import { isPreconditionFailed } from '../../contracts/ports.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * Whether a failed object-store call is worth repeating. The port hides the SDK, so this reads the
 * shape SDK errors share: a 4xx other than 408/429 is the caller's mistake and will fail again;
 * throttling, 5xx and network errors (no HTTP status at all) usually pass.
 */
export function isTransient(error: unknown): boolean {
  if (isPreconditionFailed(error)) return false;
  if (typeof error !== 'object' || error === null) return false;
  const meta = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode;
  if (status === undefined) return true;
  return status === 408 || status === 429 || status >= 500;
}

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: { policy?: RetryPolicy; signal?: AbortSignal; retryable?: (error: unknown) => boolean } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const retryable = options.retryable ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= policy.attempts || !retryable(error) || options.signal?.aborted) throw error;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling, undefined, options.signal ? { signal: options.signal } : {});
    }
  }
}
