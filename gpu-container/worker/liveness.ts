/**
 * The worker's liveness file, `<WORK_DIR>/worker-alive.json`, rewritten every few seconds for as long
 * as the worker's event loop runs, provisioning included. The image's HEALTHCHECK (health-check.ts)
 * reads it: a stale file means a hung or dead worker, and a named ComfyUI must also answer.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const LIVENESS_FILE = 'worker-alive.json';
/** How often the file is rewritten; the health check allows several missed beats. */
export const LIVENESS_INTERVAL_MS = 10_000;
export const LIVENESS_MAX_AGE_MS = 6 * LIVENESS_INTERVAL_MS;

export const LivenessSchema = z.object({
  pid: z.number().int().positive(),
  at: z.iso.datetime().describe('When the worker last wrote this file.'),
  phase: z.enum(['starting', 'serving', 'stopping']),
  engine: z.string().nullable().describe('The engine once chosen: managed, remote or preview.'),
  comfy_url: z.string().url().nullable().describe('The ComfyUI the worker renders with, once it answers.'),
});
export type Liveness = z.infer<typeof LivenessSchema>;

export interface LivenessWriter {
  update(patch: Partial<Omit<Liveness, 'pid' | 'at'>>): void;
  /** Resolves once every write so far is on disk. */
  flushed(): Promise<void>;
  stop(): Promise<void>;
}

/** Writes the liveness file now and then every `intervalMs` (tmp + rename, so a reader never sees half). */
export function startLiveness(workDir: string, intervalMs = LIVENESS_INTERVAL_MS): LivenessWriter {
  const path = join(workDir, LIVENESS_FILE);
  let state: Omit<Liveness, 'pid' | 'at'> = { phase: 'starting', engine: null, comfy_url: null };
  let writing = Promise.resolve();
  const write = (): void => {
    const body: Liveness = { pid: process.pid, at: new Date().toISOString(), ...state };
    const tmp = `${path}.${randomUUID()}.tmp`;
    writing = writing
      .then(() => writeFile(tmp, JSON.stringify(body)))
      .then(() => rename(tmp, path))
      .catch(() => rm(tmp, { force: true }));
  };
  write();
  const timer = setInterval(write, intervalMs);
  timer.unref();
  return {
    update(patch) {
      state = { ...state, ...patch };
      write();
    },
    flushed: () => writing,
    async stop() {
      clearInterval(timer);
      await writing;
      await rm(path, { force: true });
    },
  };
}

export interface HealthVerdict {
  healthy: boolean;
  reason: string;
}

/** Reads the liveness file and, when it names a ComfyUI, asks that ComfyUI for /system_stats. */
export async function checkHealth(
  workDir: string,
  options: { now?: number; maxAgeMs?: number; timeoutMs?: number } = {},
): Promise<HealthVerdict> {
  const path = join(workDir, LIVENESS_FILE);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return { healthy: false, reason: `no liveness file at ${path}` };
  const parsed = LivenessSchema.safeParse(JSON.parse(text));
  if (!parsed.success) return { healthy: false, reason: `unreadable liveness file at ${path}` };
  const live = parsed.data;
  const ageMs = (options.now ?? Date.now()) - Date.parse(live.at);
  const maxAgeMs = options.maxAgeMs ?? LIVENESS_MAX_AGE_MS;
  if (ageMs > maxAgeMs) {
    return {
      healthy: false,
      reason: `worker ${live.pid} last wrote its liveness ${Math.round(ageMs / 1000)} s ago`,
    };
  }
  if (live.comfy_url !== null) {
    const answered = await fetch(`${live.comfy_url}/system_stats`, {
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    }).then(
      (response) => response.ok,
      () => false,
    );
    if (!answered) return { healthy: false, reason: `ComfyUI at ${live.comfy_url} does not answer` };
  }
  return {
    healthy: true,
    reason: `worker ${live.pid} ${live.phase} (engine ${live.engine ?? 'not yet chosen'})`,
  };
}
