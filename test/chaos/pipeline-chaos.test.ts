import { describe, expect, it } from 'vitest';
import { formatReport, runDrill } from './chaos-drill.js';
import { REQUEST_FAULTS } from './chaos-plan.js';

/** The short drill: every fault kind once, so `npm test` proves the promises of docs/reliability.md in a few minutes. */
const SEED = 20261124;

describe('pipeline under faults', () => {
  it(
    'ends every request in exactly one terminal event that its status, outputs and error code agree with',
    async () => {
      // Prepare
      const requests = Object.keys(REQUEST_FAULTS).length;

      // Act
      const report = await runDrill({ requests, seed: SEED, workers: 2, timeoutMs: 8 * 60_000 });
      console.log(formatReport(report));

      // Assess
      expect(report.verdicts.filter((v) => v.problems.length > 0)).toEqual([]);
      expect(report.lost).toBe(0);
      expect(report.duplicates).toBe(0);
      for (const fault of Object.keys(REQUEST_FAULTS).filter((kind) => kind !== 'none')) {
        expect(report.faults[fault], `fault ${fault} was injected`).toBe(1);
      }
      expect(report.faults['proxy s3:hold']).toBeGreaterThanOrEqual(6);
    },
    10 * 60_000,
  );
});
