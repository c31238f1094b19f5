/**
 * What a kill did besides its aim. With overlapped delivery (OVERLAP_DELIVERY) a worker holds up to
 * two requests, one rendering and one delivering, so a kill aimed at one also ends the attempt of the
 * other: its second victim. Read from each killed worker's `request taken` / `request left` lines.
 */
import type { WorkerKill } from './sabotage.js';

export interface WorkerJournal {
  /** Requests taken and never left: in flight when the worker died. */
  inFlightAtEnd: string[];
  /** Requests that left `released` (SIGTERM hands back every request in flight). */
  released: string[];
  /** Takes made while another request of the same worker was still in flight. */
  overlappedTakes: number;
  /** How often this worker took each request. */
  takes: Map<string, number>;
}

/** A worker's journal from its log lines (JSON records; anything else is skipped). */
export function readJournal(lines: string[]): WorkerJournal {
  const inFlight = new Map<string, number>();
  const released: string[] = [];
  const takes = new Map<string, number>();
  let overlappedTakes = 0;
  for (const line of lines) {
    let record: { message?: unknown; request_id?: unknown; outcome?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue;
    }
    const id = record.request_id;
    if (typeof id !== 'string') continue;
    if (record.message === 'request taken') {
      if ([...inFlight.values()].some((count) => count > 0)) overlappedTakes += 1;
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      takes.set(id, (takes.get(id) ?? 0) + 1);
    }
    if (record.message === 'request left') {
      inFlight.set(id, (inFlight.get(id) ?? 0) - 1);
      if (record.outcome === 'released') released.push(id);
    }
  }
  const inFlightAtEnd = [...inFlight].filter(([, count]) => count > 0).map(([id]) => id);
  return { inFlightAtEnd, released, overlappedTakes, takes };
}

/**
 * Receives of a request that no worker logged: a worker SIGKILLed while its long poll was in flight
 * had the message counted as received and never saw it. With overlap a worker polls while it delivers,
 * so a kill aimed at its delivering request lands in a poll too. Counted for a request that the work
 * DLQ ended (its receives ran out): `maxReceives` less the takes every worker logged.
 */
export function lostReceives(
  requestId: string,
  journals: Iterable<WorkerJournal>,
  maxReceives: number,
): number {
  let taken = 0;
  for (const journal of journals) taken += journal.takes.get(requestId) ?? 0;
  return Math.max(0, maxReceives - taken);
}

/** The kills aimed at another request that ended an attempt of each request. */
export function collateralVictims(
  kills: WorkerKill[],
  journals: ReadonlyMap<string, WorkerJournal>,
): Map<string, WorkerKill[]> {
  const victims = new Map<string, WorkerKill[]>();
  for (const kill of kills) {
    const journal = journals.get(kill.workerId);
    if (journal === undefined) continue;
    const hit = new Set([...journal.inFlightAtEnd, ...(kill.signal === 'SIGTERM' ? journal.released : [])]);
    hit.delete(kill.target);
    for (const id of hit) victims.set(id, [...(victims.get(id) ?? []), kill]);
  }
  return victims;
}

/** From SNS answering a request's first published terminal event to its marker being stored (epoch ms). */
export interface MarkWindow {
  answeredAt: number;
  /** Undefined when the marker was never stored. */
  markedAt: number | undefined;
}

/**
 * A second event that the documented window explains (docs/reliability.md, "Where a second event can
 * still come from"): the same body twice, and a kill aimed at another request that ended this one's
 * attempt after SNS took its event and before the marker was stored.
 */
export function secondEventExcused(
  bodies: string[],
  kills: WorkerKill[],
  window: MarkWindow | undefined,
): boolean {
  if (bodies.length !== 2 || bodies[0] !== bodies[1] || window === undefined) return false;
  return kills.some(
    (kill) => kill.at >= window.answeredAt && (window.markedAt === undefined || kill.at <= window.markedAt),
  );
}
