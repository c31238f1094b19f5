import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalWorkerLauncher, type WorkerExit } from '../../local/local-worker-launcher.js';

/** A stand-in worker: prints its environment's queue URL and id, then waits for SIGTERM or exits. */
const STAND_IN = `
console.log(process.env.WORK_QUEUE_URL, process.env.WORKER_ID);
process.on('SIGTERM', () => process.exit(0));
if (process.argv[1] === 'exit') process.exit(3);
setInterval(() => {}, 1000);
`;

function launcher(mode: 'stay' | 'exit', logDir: string, exits: WorkerExit[], maxWorkers = 2) {
  return new LocalWorkerLauncher({
    maxWorkers,
    env: { WORK_QUEUE_URL: 'http://queue.local/work' },
    logDir,
    command: { file: process.execPath, args: ['-e', STAND_IN, mode] },
    onExit: (exit) => exits.push(exit),
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('local worker launcher', () => {
  it('starts no more than maxWorkers processes, however many are asked for', async () => {
    // Prepare
    const exits: WorkerExit[] = [];
    const workers = launcher('stay', await mkdtemp(join(tmpdir(), 'launcher-')), exits, 2);

    // Act
    const first = await workers.launch(5);
    const second = await workers.launch(1);
    const live = await workers.liveWorkers();
    await workers.stopAll();
    const afterStop = await workers.launch(1);

    // Assess
    expect(first).toBe(2);
    expect(second).toBe(0);
    expect(live).toBe(2);
    expect(afterStop).toBe(0);
    expect(await workers.liveWorkers()).toBe(0);
    // SIGTERM, as Batch sends on cancel: handled (exit 0) or, if it came before the handler, fatal.
    expect(exits.map((exit) => (exit.code === 0 ? 'SIGTERM' : exit.signal))).toEqual(['SIGTERM', 'SIGTERM']);
  });

  it('counts a worker that exited as gone, reports its exit and keeps its output in a log file', async () => {
    // Prepare
    const exits: WorkerExit[] = [];
    const workers = launcher('exit', await mkdtemp(join(tmpdir(), 'launcher-')), exits, 1);

    // Act
    await workers.launch(1);
    await until(() => exits.length === 1);
    const relaunched = await workers.launch(1);
    await until(() => exits.length === 2);

    // Assess
    expect(relaunched).toBe(1);
    expect(exits[0]?.code).toBe(3);
    expect(await workers.liveWorkers()).toBe(0);
    const log = await readFile(exits[0]?.logFile ?? '', 'utf8');
    expect(log).toContain(`http://queue.local/work ${exits[0]?.workerId}`);
  });
});
