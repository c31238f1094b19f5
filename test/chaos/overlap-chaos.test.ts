/**
 * The short drill with overlapped delivery on (OVERLAP_DELIVERY): a worker renders the next request
 * while the previous one delivers, so a kill aimed at one request can end the attempt of the other.
 * The promises hold all the same: one terminal event per request, a status that agrees, outputs
 * that match, and the planned outcome, or a crash's where a kill aimed at another request used up
 * this one's receives (chaos-drill.ts, collateral.ts). A second event is allowed only where the
 * documented window explains it: the same body, and a kill inside the request's marker window.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type DrillReport, runShortDrill } from './chaos-drill.js';

let report: DrillReport;

beforeAll(async () => {
  report = await runShortDrill(true);
}, 10 * 60_000);

describe('pipeline under faults, with overlapped delivery', () => {
  it('ends every request in exactly one terminal event that its status, outputs and error code agree with', () => {
    // Assess
    expect(report.verdicts.filter((v) => v.problems.length > 0)).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    expect(report.backgroundUnfired).toEqual([]);
  });

  it('overlapped for real, and proved every fault kind whose request no other kill hit', () => {
    // Assess
    expect(report.overlapDelivery).toBe(true);
    expect(report.overlappedTakes).toBeGreaterThan(0);
    for (const verdict of report.verdicts.filter((v) => v.fault !== 'none' && v.collateral === 0)) {
      expect(report.faults[verdict.fault], `fault ${verdict.fault} was injected`).toBe(1);
    }
  });
});
