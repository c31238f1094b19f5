/**
 * CloudWatch embedded metric format, read back: the records a deployable wrote as JSON lines, and the
 * datapoints CloudWatch would extract from them. The demo reports the worker's with its result, and
 * the tests feed them to the alarms' expressions.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const MetricDirectiveSchema = z.object({
  Namespace: z.string(),
  Dimensions: z.array(z.array(z.string())),
  Metrics: z.array(z.object({ Name: z.string(), Unit: z.string().optional() })),
});

export const EmfRecordSchema = z.looseObject({
  _aws: z.object({ Timestamp: z.number(), CloudWatchMetrics: z.array(MetricDirectiveSchema) }),
});

export type EmfRecord = z.infer<typeof EmfRecordSchema>;

/** One metric value set as CloudWatch stores it. */
export interface EmfDatapoint {
  timestamp: number;
  namespace: string;
  name: string;
  unit: string | undefined;
  dimensions: Record<string, string>;
  values: number[];
}

/** The record on one log line, or undefined when the line is not EMF. */
export function parseEmfLine(line: string): EmfRecord | undefined {
  if (!line.includes('"_aws"')) return undefined;
  try {
    const parsed = EmfRecordSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Every EMF record among `text`'s lines, in order. */
export function emfRecordsIn(text: string): EmfRecord[] {
  return text.split('\n').flatMap((line) => parseEmfLine(line) ?? []);
}

function valuesOf(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((item): item is number => typeof item === 'number' && Number.isFinite(item));
}

/** What CloudWatch extracts from one record: each metric under each of its dimension sets. */
export function emfDatapoints(record: EmfRecord): EmfDatapoint[] {
  const fields = record as Record<string, unknown>;
  return record._aws.CloudWatchMetrics.flatMap((directive) =>
    directive.Dimensions.flatMap((names) =>
      directive.Metrics.map((metric) => ({
        timestamp: record._aws.Timestamp,
        namespace: directive.Namespace,
        name: metric.Name,
        unit: metric.Unit,
        dimensions: Object.fromEntries(names.map((name) => [name, String(fields[name])])),
        values: valuesOf(fields[metric.Name]),
      })),
    ),
  );
}

/** The EMF records in every worker log of a local stack (`<workDir>/workers/*.log`). */
export async function readWorkerEmf(logDir: string): Promise<EmfRecord[]> {
  const names = (await readdir(logDir).catch(() => [] as string[])).filter((name) => name.endsWith('.log'));
  const texts = await Promise.all(names.sort().map((name) => readFile(join(logDir, name), 'utf8')));
  return texts.flatMap(emfRecordsIn);
}

/** One metric of a request as CloudWatch would show it: for `demo --json`. */
export interface RequestMetric {
  namespace: string;
  name: string;
  unit: string | undefined;
  dimensions: Record<string, string>;
  value: number;
}

/** The metrics the records naming `requestId` carry, one entry per metric and dimension set. */
export function requestMetrics(records: EmfRecord[], requestId: string): RequestMetric[] {
  return records
    .filter((record) => record.request_id === requestId)
    .flatMap(emfDatapoints)
    .flatMap(({ namespace, name, unit, dimensions, values }) =>
      values.map((value) => ({ namespace, name, unit, dimensions, value })),
    );
}
