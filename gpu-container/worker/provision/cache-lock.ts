/**
 * An exclusive lock on one cache entry, shared by every worker on the host (the 8 workers of a
 * p5.48xlarge mount the same NVMe cache). The lock is a file created with O_EXCL ('wx'): exactly one
 * creator wins. It records its owner, and the owner touches it while it works.
 *
 * A lock is stale, and may be taken over, when its owner is known dead: same host name and its pid no
 * longer exists. Workers run in separate containers, whose pids mean nothing to each other, so a lock
 * whose owner is on another host name is stale only when it has not been touched for `staleMs`.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { z } from 'zod';

const LockOwnerSchema = z.object({
  pid: z.number().int(),
  hostname: z.string(),
  token: z.string(),
  acquired_at: z.string(),
});
export type LockOwner = z.infer<typeof LockOwnerSchema>;

export interface CacheLockOptions {
  /** How often the owner touches the lock file. */
  heartbeatMs?: number;
  /** A lock from another host name untouched for this long is stale. */
  staleMs?: number;
}

export interface CacheLock {
  readonly path: string;
  readonly owner: LockOwner;
  release(): Promise<void>;
}

/** Takes the lock if it is free or stale; returns undefined while someone else holds it. */
export async function tryLock(path: string, options: CacheLockOptions = {}): Promise<CacheLock | undefined> {
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    token: randomUUID(),
    acquired_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(JSON.stringify(owner));
        await file.sync();
      } finally {
        await file.close();
      }
      return holdLock(path, owner, options.heartbeatMs ?? 5_000);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!(await removeIfStale(path, options.staleMs ?? 30_000))) return undefined;
  }
  return undefined;
}

function holdLock(path: string, owner: LockOwner, heartbeatMs: number): CacheLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, heartbeatMs);
  heartbeat.unref();
  return {
    path,
    owner,
    async release() {
      clearInterval(heartbeat);
      // Only our own lock is removed: a lock someone took over as stale is theirs now.
      if ((await readOwner(path))?.token === owner.token) await unlink(path).catch(ignoreMissing);
    },
  };
}

async function removeIfStale(path: string, staleMs: number): Promise<boolean> {
  const [owner, info] = await Promise.all([readOwner(path), stat(path).catch(() => undefined)]);
  if (info === undefined) return true;
  const ownerDead = owner !== undefined && owner.hostname === hostname() && !isAlive(owner.pid);
  const untouched = Date.now() - info.mtimeMs > staleMs;
  if (!ownerDead && !untouched) return false;
  // Re-read just before removing, so that a lock another waiter has just retaken is left alone.
  const again = await readOwner(path);
  if (again?.token !== owner?.token) return false;
  await unlink(path).catch(ignoreMissing);
  return true;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const parsed = LockOwnerSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Missing, or being written right now: no owner we can name.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
