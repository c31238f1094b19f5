/** Runs cdk-nag's AwsSolutions pack over an app and returns its unacknowledged findings. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

interface ValidationReport {
  pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

export function temporaryOutdir(): string {
  return mkdtempSync(path.join(tmpdir(), 'heritage-cdk-'));
}

/** "rule | construct path" for every finding; empty when the app synthesizes clean. */
export function nagFindings(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    // Forced: an app that Template.fromStack already synthesized would hand back that assembly, made
    // before the plugin was added, and report nothing.
    app.synth({ force: true });
    return [];
  } catch (error) {
    const report = path.join(app.outdir, 'validation-report.json');
    if (!existsSync(report)) throw error;
    const { pluginReports } = JSON.parse(readFileSync(report, 'utf8')) as ValidationReport;
    return pluginReports.flatMap((plugin) =>
      plugin.violations.flatMap((violation) =>
        violation.violatingConstructs.map(
          (construct) => `${violation.ruleName} | ${construct.constructPath}`,
        ),
      ),
    );
  }
}
