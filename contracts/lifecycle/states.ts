/** The states of a request and the transitions between them (the status document is in status.ts). */
export const REQUEST_STATES = ['queued', 'running', 'succeeded', 'failed', 'rejected'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** The states a request ends in; each has exactly one completion event of the same name. */
export const TERMINAL_STATES = ['succeeded', 'failed', 'rejected'] as const satisfies readonly RequestState[];
export type TerminalState = (typeof TERMINAL_STATES)[number];

/**
 * Allowed moves. `running → queued` is a retry after a worker let the message go (SIGTERM, crash).
 * `queued → queued` is dispatch recording that the work message went out (`enqueued_at`).
 */
export const TRANSITIONS: Readonly<Record<RequestState, readonly RequestState[]>> = {
  queued: ['queued', 'running', 'failed'],
  running: ['running', 'queued', 'succeeded', 'failed'],
  succeeded: [],
  failed: [],
  rejected: [],
};

export function isTerminal(state: RequestState): state is TerminalState {
  return (TERMINAL_STATES as readonly RequestState[]).includes(state);
}

export function canTransition(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}
