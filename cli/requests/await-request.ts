/** Polls requests/<id>/status.json until the request is terminal. Works the same on AWS and locally. */

import { isTerminal, type StatusDocument } from '../../contracts/lifecycle/status.js';
import type { StatusStore } from '../../contracts/ports.js';
import { RequestFailedError } from '../exit-codes.js';
import { nextStep } from './explain-request.js';

export interface AwaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called with each status read (undefined until dispatch has claimed the request). */
  onStatus?: (status: StatusDocument | undefined) => void;
  signal?: AbortSignal;
}

export async function awaitTerminalStatus(
  statuses: StatusStore,
  requestId: string,
  options: AwaitOptions,
): Promise<StatusDocument> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const record = await statuses.read(requestId);
    options.onStatus?.(record?.status);
    if (record !== undefined && isTerminal(record.status.state)) return record.status;
    if (Date.now() >= deadline) {
      throw new RequestFailedError(
        `request ${requestId} did not finish within ${Math.round(options.timeoutMs / 1000)} s ` +
          `(last state: ${record?.status.state ?? 'not yet claimed by dispatch'})`,
        undefined,
        {
          result: record?.status ?? null,
          hint: `it goes on without you: heritage wait ${requestId} --timeout SECONDS waits again.`,
        },
      );
    }
    options.signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}

/** Turns a terminal status into success or a RequestFailedError with the pipeline's error code. */
export function assertSucceeded(status: StatusDocument): StatusDocument {
  if (status.state === 'succeeded') return status;
  throw new RequestFailedError(
    `request ${status.request_id} ${status.state}${status.error === undefined ? ' (no reason given)' : ''}`,
    status.error,
    { result: status, hint: nextStep(status) },
  );
}
