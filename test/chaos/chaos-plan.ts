/**
 * Which fault each request of a chaos drill gets, from a seed: the same seed gives the same plan, so a
 * failing drill can be run again exactly.
 */

/** Faults aimed at one request, and the outcome the request must still reach. */
export const REQUEST_FAULTS = {
  none: { expect: 'succeeded' },
  /** SIGKILL while the worker downloads the inputs (its GET of the start image is held). */
  'kill-download': { expect: 'succeeded', minAttempts: 2 },
  /** SIGKILL while the preview engine's ffmpeg renders. */
  'kill-inference': { expect: 'succeeded', minAttempts: 2 },
  /** SIGKILL while a frame upload is in flight (held). */
  'kill-upload': { expect: 'succeeded', minAttempts: 2 },
  /** SIGKILL after result.json and status `succeeded`, before the event (the outbox write is held). */
  'kill-before-event': { expect: 'succeeded' },
  /**
   * SIGTERM while a frame upload is in flight: the worker aborts the held PUT at once (its connection
   * closes while the worker still runs) and hands the request back.
   */
  'term-upload': { expect: 'succeeded', minAttempts: 2, logged: '"outcome":"released"' },
  /** The engine (ffmpeg) is killed mid-render: ENGINE_CRASHED, retried after a backoff. */
  'engine-crash': { expect: 'succeeded', minAttempts: 2, logged: '"ENGINE_CRASHED"' },
  /**
   * Every attempt's worker is killed mid-upload until the message dead-letters. Dead-letter fails it
   * with WORKER_CRASHED, unless reconcile finds its heartbeat stale first (HEARTBEAT_LOST): with
   * overlapped delivery no worker may poll for a while, and the message moves to the DLQ only on a
   * receive.
   */
  'kill-every-attempt': {
    expect: 'failed',
    code: 'WORKER_CRASHED',
    orCode: 'HEARTBEAT_LOST',
    minAttempts: 3,
  },
  /**
   * Killed mid-upload on its first two deliveries, then SIGKILLed on the last one after its status is
   * `succeeded` and before the event (the outbox write is held): the message dead-letters with the
   * event unsent, and dead-letter or reconcile sends it.
   */
  'kill-after-mark-last': { expect: 'succeeded', minAttempts: 3 },
  /**
   * SNS answers 500 to every publish of this request's event for longer than three visibility windows;
   * the event goes out once, after the outage.
   */
  'sns-outage': { expect: 'succeeded' },
  /**
   * The work message is delivered a second time while the first holder renders (SQS may deliver twice):
   * the second worker finds the lease held and leaves the request; one render, one event.
   */
  'two-holders': { expect: 'succeeded', maxAttempts: 1, logged: 'another attempt holds this request' },
  /**
   * S3 answers 500 to the first tries of the `event.published` marker, after SNS took the event: the
   * marker is retried, and no other path publishes again.
   */
  'mark-fails': { expect: 'succeeded' },
  /** The start image is replaced after dispatch validated it, before the worker reads it: IMAGE_CHANGED. */
  'image-replaced': { expect: 'failed', code: 'IMAGE_CHANGED' },
  /** S3 answers 500 to the first tries of a frame PUT; the SDK retries through it. */
  'upload-transient': { expect: 'succeeded' },
  /** S3 answers 500 to every try of a frame PUT: the request fails with UPLOAD_FAILED. */
  'upload-broken': { expect: 'failed', code: 'UPLOAD_FAILED' },
  /** The manifest notification arrives twice, concurrently. */
  'duplicate-x2': { expect: 'succeeded' },
  /** The manifest notification arrives three times, concurrently. */
  'duplicate-x3': { expect: 'succeeded' },
  /** The client uploads another manifest while its request runs: that upload is rejected on its own. */
  'manifest-replaced': { expect: 'succeeded', reusedUploads: 1 },
  /** The manifest asks for a frame_length that is not 4n+1: dispatch rejects it, no worker sees it. */
  'bad-manifest': { expect: 'rejected', code: 'MANIFEST_INVALID' },
} as const satisfies Record<
  string,
  {
    expect: 'succeeded' | 'failed' | 'rejected';
    code?: string;
    /** Another code that another path reaching the same outcome first gives. */
    orCode?: string;
    /** Workers that must have taken the request: proof that the fault hit a run in progress. */
    minAttempts?: number;
    /** Workers that may have taken it at most: no second render. */
    maxAttempts?: number;
    /** Text a worker must have logged on a line that names the request (a retried failure has no event). */
    logged?: string;
    /** Uploads under the request's id that must each get one REQUEST_ID_REUSED event (default none). */
    reusedUploads?: number;
  }
>;

export type RequestFault = keyof typeof REQUEST_FAULTS;

export interface PlannedRequest {
  requestId: string;
  fault: RequestFault;
}

/** mulberry32: a small, well-known seeded generator; Math.random cannot be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every fault at least once when there are enough requests, the rest drawn at random; then shuffled.
 * The ids carry the fault so a worker log line points straight at the drill's intent.
 */
export function planDrill(requests: number, seed: number): PlannedRequest[] {
  const random = seededRandom(seed);
  const kinds = Object.keys(REQUEST_FAULTS) as RequestFault[];
  const faults: RequestFault[] = [];
  for (let i = 0; i < requests; i++) {
    faults.push(
      i < kinds.length
        ? (kinds[i] as RequestFault)
        : (kinds[Math.floor(random() * kinds.length)] as RequestFault),
    );
  }
  for (let i = faults.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [faults[i], faults[j]] = [faults[j] as RequestFault, faults[i] as RequestFault];
  }
  return faults.map((fault, i) => ({
    requestId: `chaos-${seed}-${String(i + 1).padStart(4, '0')}-${fault}`,
    fault,
  }));
}
