import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../contracts/metrics.js';
import { type EmfDatapoint, type EmfRecord, emfDatapoints } from '../../local/emf-records.js';
import { buildHeritage } from '../infra/support/heritage-app.js';
import { type AlarmProperties, evaluateAlarm } from '../support/alarm-evaluation.js';
import { metricsReadBy, type ReadMetric } from '../support/template-metrics.js';
import { type DrillReport, runShortDrill } from './chaos-drill.js';
import { REQUEST_FAULTS } from './chaos-plan.js';

/** The short drill (every fault kind once), so `npm test` proves the promises of docs/reliability.md in a few minutes. */

let report: DrillReport;

beforeAll(async () => {
  report = await runShortDrill(false);
}, 10 * 60_000);

describe('pipeline under faults', () => {
  it('ends every request in exactly one terminal event that its status, outputs and error code agree with', () => {
    // Assess
    expect(report.verdicts.filter((v) => v.problems.length > 0)).toEqual([]);
    expect(report.lost).toBe(0);
    expect(report.duplicates).toBe(0);
    for (const fault of Object.keys(REQUEST_FAULTS).filter((kind) => kind !== 'none')) {
      expect(report.faults[fault], `fault ${fault} was injected`).toBe(1);
    }
    expect(report.faults['proxy s3:hold']).toBeGreaterThanOrEqual(6);
    expect(report.backgroundUnfired).toEqual([]);
  });

  it('by default delivers each request before its worker takes the next, so a kill hits only its aim', () => {
    // Assess
    expect(report.overlapDelivery).toBe(false);
    expect(report.kills).toBeGreaterThanOrEqual(8);
    expect(report.overlappedTakes).toBe(0);
    expect(report.windowDuplicates).toBe(0);
    expect(report.verdicts.filter((v) => v.collateral > 0)).toEqual([]);
  });
});

/** Whether `point` is a datapoint of the metric `read` reads: same namespace, name and dimensions. */
function feeds(point: EmfDatapoint, read: ReadMetric): boolean {
  const names = Object.keys(read.dimensions).sort();
  return (
    point.namespace === read.namespace &&
    point.name === read.name &&
    JSON.stringify(Object.keys(point.dimensions).sort()) === JSON.stringify(names) &&
    names.every(
      (name) => read.dimensions[name] === undefined || read.dimensions[name] === point.dimensions[name],
    )
  );
}

function alarmNamed(template: Template, name: string): AlarmProperties {
  const alarms = template.findResources('AWS::CloudWatch::Alarm') as Record<string, { Properties: unknown }>;
  const [found, ...others] = Object.entries(alarms).filter(([id]) => id.includes(name));
  if (found === undefined || others.length > 0) throw new Error(`no single alarm named ${name}`);
  return found[1].Properties as AlarmProperties;
}

/** The worker's record of a request reaching `succeeded`. */
function successOf(record: EmfRecord, requestId: string): boolean {
  return record.request_id === requestId && record[METRIC_NAMES.requestsSucceeded] !== undefined;
}

describe("the drill's metrics, fed to the alarms and the dashboard", () => {
  it('feed every Heritage metric an alarm or a widget reads, with its name, namespace and dimensions', () => {
    // Prepare
    const { template } = buildHeritage();
    const emitted = report.metrics.flatMap(emfDatapoints);

    // Act
    const read = metricsReadBy(template);
    const unfed = read.filter(
      (metric) => !metric.namespace.startsWith('AWS/') && !emitted.some((point) => feeds(point, metric)),
    );

    // Assess
    expect(read.filter((metric) => metric.namespace === METRICS_NAMESPACE).length).toBeGreaterThan(0);
    expect(unfed).toEqual([]);
  });

  it('put FailureRate in ALARM exactly when the failed share of finished requests passes its threshold', () => {
    // Prepare: what the drill's requests really ended as, and the alarm as synthesized.
    const alarm = alarmNamed(buildHeritage().template, 'FailureRate');
    const failed = report.verdicts.filter((v) => v.state === 'failed').length;
    const succeeded = report.verdicts.filter((v) => v.state === 'succeeded').map((v) => v.requestId);
    const end = Math.max(...report.metrics.map((record) => record._aws.Timestamp)) + 1;
    const states = new Set<string>();

    // Act and Assess: the whole run, then the same lines with ever fewer successes in them.
    for (let kept = succeeded.length; kept >= 0; kept--) {
      const dropped = succeeded.slice(kept);
      const records = report.metrics.filter((record) => !dropped.some((id) => successOf(record, id)));
      const evaluation = evaluateAlarm(alarm, records.flatMap(emfDatapoints), end);
      const share = failed + kept === 0 ? 0 : (100 * failed) / (failed + kept);
      expect(evaluation.values[0], `${failed} failed, ${kept} succeeded`).toBeCloseTo(share, 6);
      expect(evaluation.state, `${failed} failed, ${kept} succeeded`).toBe(
        share > alarm.Threshold ? 'ALARM' : 'OK',
      );
      states.add(evaluation.state);
    }
    expect(failed).toBeGreaterThan(0);
    expect([...states].sort()).toEqual(['ALARM', 'OK']);
  });
});
