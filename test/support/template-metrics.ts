/**
 * Every metric the synthesized template reads: each alarm's metrics and each dashboard widget's, the
 * latter including SEARCH expressions (a namespace, a set of dimension names and a metric name, any
 * dimension values). Read from the template itself, so a widget added tomorrow is covered.
 */
import type { Template } from 'aws-cdk-lib/assertions';

export interface ReadMetric {
  /** Where it is read: an alarm's logical id or a widget's title. */
  reader: string;
  namespace: string;
  name: string;
  /** Name to value; a value of undefined matches any value (SEARCH). */
  dimensions: Record<string, string | undefined>;
}

type Resources = Record<string, { Properties?: Record<string, unknown> }>;

interface TemplateMetric {
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: unknown }[];
}

function fromAlarmMetric(reader: string, metric: TemplateMetric): ReadMetric {
  return {
    reader,
    namespace: metric.Namespace,
    name: metric.MetricName,
    dimensions: Object.fromEntries(
      (metric.Dimensions ?? []).map((d) => [d.Name, typeof d.Value === 'string' ? d.Value : '<token>']),
    ),
  };
}

function alarmMetrics(template: Template): ReadMetric[] {
  const alarms = template.findResources('AWS::CloudWatch::Alarm') as Resources;
  return Object.entries(alarms).flatMap(([id, alarm]) => {
    const properties = alarm.Properties as unknown as TemplateMetric & {
      Metrics?: { MetricStat?: { Metric: TemplateMetric } }[];
    };
    if (properties.Metrics === undefined) return [fromAlarmMetric(id, properties)];
    return properties.Metrics.flatMap((query) =>
      query.MetricStat === undefined ? [] : [fromAlarmMetric(id, query.MetricStat.Metric)],
    );
  });
}

/** The dashboard body with every CloudFormation token replaced by `<token>`, parsed. */
function dashboardBody(template: Template): { widgets: { properties?: Record<string, unknown> }[] } {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources);
  const body = dashboard?.Properties?.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return JSON.parse(text);
}

const SEARCH = /SEARCH\('\{([^}]*)\}\s+MetricName="([^"]+)"/g;

function widgetMetrics(template: Template): ReadMetric[] {
  const read: ReadMetric[] = [];
  for (const widget of dashboardBody(template).widgets) {
    const reader = String(widget.properties?.title ?? 'untitled widget');
    let previous: unknown[] = [];
    for (const entry of (widget.properties?.metrics as unknown[][] | undefined) ?? []) {
      const options = entry.at(-1);
      if (entry.length === 1 && typeof options === 'object' && options !== null && 'expression' in options) {
        for (const [, spec = '', name = ''] of String(options.expression).matchAll(SEARCH)) {
          const [namespace = '', ...dimensionNames] = spec.split(',').map((part) => part.trim());
          read.push({
            reader,
            namespace,
            name,
            dimensions: Object.fromEntries(dimensionNames.map((dimension) => [dimension, undefined])),
          });
        }
        continue;
      }
      // A metric: [namespace, name, dimension, value, ..., {options}?]; "." repeats the entry above.
      const fields = entry
        .filter((field) => typeof field === 'string')
        .map((field, i) => (field === '.' ? String(previous[i]) : field));
      previous = fields;
      const [namespace = '', name = '', ...pairs] = fields;
      const dimensions: Record<string, string> = {};
      for (let i = 0; i + 1 < pairs.length; i += 2) dimensions[pairs[i] as string] = pairs[i + 1] as string;
      read.push({ reader, namespace, name, dimensions });
    }
  }
  return read;
}

/** Every metric an alarm or a dashboard widget in `template` reads. */
export function metricsReadBy(template: Template): ReadMetric[] {
  return [...alarmMetrics(template), ...widgetMetrics(template)];
}
