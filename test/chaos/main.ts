/**
 * `npm run chaos`: the long chaos drill, for the record. CHAOS_REQUESTS, CHAOS_SEED and CHAOS_WORKERS
 * choose its size; the same seed replays the same plan; CHAOS_WORK_DIR keeps the worker logs;
 * CHAOS_OVERLAP=1 runs the workers with overlapped delivery. Exits 1 when any promise broke.
 */
import { formatReport, runDrill } from './chaos-drill.js';

const requests = Number(process.env.CHAOS_REQUESTS ?? 60);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
const workers = Number(process.env.CHAOS_WORKERS ?? 3);
console.log(`chaos drill: seed ${seed} (replay with CHAOS_SEED=${seed})`);
const report = await runDrill({
  requests,
  seed,
  workers,
  timeoutMs: Number(process.env.CHAOS_TIMEOUT_SECONDS ?? 60 * 60) * 1000,
  log: (line) => console.error(line),
  overlapDelivery: process.env.CHAOS_OVERLAP === '1',
  ...(process.env.CHAOS_WORK_DIR === undefined ? {} : { workDir: process.env.CHAOS_WORK_DIR }),
});
console.log(formatReport(report));
// A request whose fault was not proven carries that as a problem; background faults must all have fired.
process.exitCode =
  report.verdicts.every((v) => v.problems.length === 0) && report.backgroundUnfired.length === 0 ? 0 : 1;
