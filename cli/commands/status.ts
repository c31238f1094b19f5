/** heritage status <id>: the request's lifecycle document, requests/<id>/status.json. */
import { assertRequestId } from '../../contracts/keys.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { COMMON_OPTIONS, parseCommand, TARGET_OPTIONS } from '../args.js';
import { RequestFailedError } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { resolveTarget } from '../target.js';

export const STATUS_USAGE =
  'heritage status <id>   exit 0 while queued, running or succeeded; 1 when failed, rejected or unknown';

export function describeStatus(status: StatusDocument): string[] {
  const lines = [`${status.request_id}: ${status.state} (updated ${status.updated_at})`];
  if (status.progress !== undefined)
    lines.push(`  progress: ${status.progress.percent}% ${status.progress.phase}`);
  if (status.seed !== undefined) lines.push(`  seed: ${status.seed}`);
  if (status.result_key !== undefined) lines.push(`  result: ${status.result_key}`);
  if (status.error !== undefined) lines.push(`  error: ${status.error.code}: ${status.error.message}`);
  return lines;
}

export async function status(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    'status',
    args,
    { ...COMMON_OPTIONS, ...TARGET_OPTIONS },
    {
      min: 1,
      max: 1,
      names: '<id>',
    },
  );
  const out = createOutput(values.json === true);
  if (values.help === true) return out.line(STATUS_USAGE);
  const id = assertRequestId(positionals[0] ?? '');
  const target = await resolveTarget(values);
  try {
    const record = await target.statuses.read(id);
    if (record === undefined) {
      throw new RequestFailedError(
        `no request ${id} in s3://${target.bucket}/ (dispatch has not claimed it)`,
      );
    }
    out.result(record.status, describeStatus(record.status));
    if (record.status.state === 'failed' || record.status.state === 'rejected') {
      process.exitCode = 1;
    }
  } finally {
    target.close();
  }
}
