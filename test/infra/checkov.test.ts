/**
 * checkov over the synthesized templates of the default, Spot and bring-your-own configurations: zero
 * failed checks, and every skip carries its reason (recorded in infra/constructs next to the resource).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { lintedConfigurations, synthesizeTemplate } from './support/heritage-app.js';
import { temporaryOutdir } from './support/nag-findings.js';

/** .ci/run installs checkov into its own virtual environment and names it here. */
const CHECKOV = process.env.CHECKOV ?? 'checkov';

function checkovAvailable(): boolean {
  return spawnSync(CHECKOV, ['--version'], { encoding: 'utf8' }).status === 0;
}

interface CheckovCheck {
  check_id: string;
  resource: string;
  check_result: { result: string; suppress_comment?: string };
}

interface CheckovReport {
  results: { failed_checks: CheckovCheck[]; skipped_checks: CheckovCheck[]; passed_checks: CheckovCheck[] };
  summary: { failed: number; parsing_errors: number; resource_count: number };
}

describe('checkov', () => {
  const outdirs: string[] = [];
  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(checkovAvailable() || process.env.CI)(
    'passes with zero failed checks, and every skipped check is justified',
    () => {
      // Prepare
      const templates: string[] = [];
      for (const [context, env] of [[{}, undefined], ...lintedConfigurations()] as const) {
        const outdir = temporaryOutdir();
        outdirs.push(outdir);
        templates.push(synthesizeTemplate(context, env, outdir));
      }
      expect(checkovAvailable(), 'checkov is not installed; .ci/run installs it').toBe(true);

      // Act
      const reports = templates.map((template) => {
        const run = spawnSync(
          CHECKOV,
          ['--file', template, '--framework', 'cloudformation', '--output', 'json', '--soft-fail'],
          { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
        );
        expect(run.status, run.stderr).toBe(0);
        return JSON.parse(run.stdout) as CheckovReport;
      });

      // Assess
      for (const report of reports) {
        expect(report.summary.resource_count).toBeGreaterThan(50);
        expect(report.summary.parsing_errors).toBe(0);
        expect(report.results.failed_checks.map((c) => `${c.check_id} ${c.resource}`)).toEqual([]);
        const unexplained = report.results.skipped_checks.filter(
          (c) => (c.check_result.suppress_comment ?? '').trim().length < 20,
        );
        expect(unexplained.map((c) => `${c.check_id} ${c.resource}`)).toEqual([]);
      }
    },
    240_000,
  );
});
