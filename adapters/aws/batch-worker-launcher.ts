/**
 * WorkerLauncher over AWS Batch. Workers are jobs on a dedicated job queue; a live worker is a job in
 * SUBMITTED through RUNNING. Several workers go out as one array job, so one SubmitJob call can start
 * them all. Batch throttles its control plane hard (429): calls back off with full jitter.
 */
import {
  type BatchClient,
  type JobSummary,
  ListJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { TransientError } from '../../contracts/errors.js';
import type { WorkerCensus, WorkerLauncher } from '../../contracts/ports.js';

export const LIVE_JOB_STATUSES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'] as const;
export const WORKER_JOB_PREFIX = 'heritage-worker';
/** Batch's limit on the size of one array job. */
export const MAX_ARRAY_SIZE = 10_000;

export interface BatchWorkerLauncherOptions {
  batch: BatchClient;
  jobQueue: string;
  jobDefinition: string;
  jobNamePrefix?: string;
  /** Attempts per Batch call when it is throttled; then the call fails with a TransientError. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => Date;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

function isThrottled(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    $metadata?.httpStatusCode === 429 || name === 'TooManyRequestsException' || name === 'ThrottlingException'
  );
}

/** yyyymmddHHMM in UTC: job names say when they were asked for, and repeat within a minute. */
function minuteStamp(date: Date): string {
  return date.toISOString().slice(0, 16).replace(/[-:T]/g, '');
}

/**
 * Adds the live workers behind one job summary, listed under `listed`, to `byStatus`. An array parent
 * stands for its live children, which its status summary counts by status.
 */
function addLiveWorkers(byStatus: Record<string, number>, job: JobSummary, listed: string): void {
  const add = (status: string, n: number): void => {
    byStatus[status] = (byStatus[status] ?? 0) + n;
  };
  const array = job.arrayProperties;
  if (array?.size === undefined || array.index !== undefined) add(listed, 1);
  else if (array.statusSummary === undefined) add(listed, array.size);
  else for (const status of LIVE_JOB_STATUSES) add(status, array.statusSummary[status] ?? 0);
}

export class BatchWorkerLauncher implements WorkerLauncher {
  private readonly prefix: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: BatchWorkerLauncherOptions) {
    this.prefix = options.jobNamePrefix ?? WORKER_JOB_PREFIX;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Deterministic: the same count asked for in the same minute gets the same name. */
  jobName(count: number): string {
    return `${this.prefix}-${minuteStamp(this.now())}-${count}`;
  }

  async liveWorkers(): Promise<number> {
    return (await this.census()).live;
  }

  async census(): Promise<WorkerCensus> {
    const byStatus: Record<string, number> = {};
    for (const jobStatus of LIVE_JOB_STATUSES) {
      let nextToken: string | undefined;
      do {
        const page = await this.call(() =>
          this.options.batch.send(
            new ListJobsCommand({
              jobQueue: this.options.jobQueue,
              jobStatus,
              ...(nextToken === undefined ? {} : { nextToken }),
            }),
          ),
        );
        for (const job of page.jobSummaryList ?? []) {
          if (job.jobName?.startsWith(this.prefix)) addLiveWorkers(byStatus, job, jobStatus);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    }
    return {
      live: Object.values(byStatus).reduce((sum, n) => sum + n, 0),
      runnable: byStatus.RUNNABLE ?? 0,
      running: byStatus.RUNNING ?? 0,
    };
  }

  async launch(count: number): Promise<number> {
    const size = Math.min(Math.floor(count), MAX_ARRAY_SIZE);
    if (size <= 0) return 0;
    const input: SubmitJobCommandInput = {
      jobName: this.jobName(size),
      jobQueue: this.options.jobQueue,
      jobDefinition: this.options.jobDefinition,
      ...(size > 1 ? { arrayProperties: { size } } : {}),
    };
    await this.call(() => this.options.batch.send(new SubmitJobCommand(input)));
    return size;
  }

  /** Retries throttled calls with full-jitter exponential backoff; anything else fails at once. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!isThrottled(error)) throw error;
        if (attempt >= this.maxAttempts) {
          throw new TransientError(`AWS Batch kept throttling after ${attempt} attempts`, { cause: error });
        }
        const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        await this.sleep(Math.floor(this.random() * cap));
      }
    }
  }
}
