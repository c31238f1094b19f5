/** heritage status <id>: the request's lifecycle document, requests/<id>/status.json. */
import { assertRequestId } from '../../contracts/keys.js';
import type { StatusDocument } from '../../contracts/lifecycle/status.js';
import { COMMON_OPTIONS, parseCommand, TARGET_OPTIONS } from '../args.js';
import { RequestFailedError } from '../exit-codes.js';
import { createOutput } from '../output.js';
import { explainUnclaimed, nextStep } from '../requests/explain-request.js';
import { resolveTarget } from '../target.js';

export const STATUS_USAGE = `heritage status <id>
  prints requests/<id>/status.json: state, progress, seed, error;
  exit 0 while queued, running or succeeded; 1 when failed, rejected, or not there`;

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
  const out = createOutput(values.json === true, 'status');
  if (values.help === true) return out.help(STATUS_USAGE);
  const id = assertRequestId(positionals[0] ?? '');
  const target = await resolveTarget(values);
  try {
    const record = await target.statuses.read(id);
    if (record === undefined) throw await explainUnclaimed(target, id);
    const { status } = record;
    if (status.state === 'failed' || status.state === 'rejected') {
      if (!out.json) for (const line of describeStatus(status)) out.line(line);
      throw new RequestFailedError(`request ${id} ${status.state}`, status.error, {
        result: status,
        hint: nextStep(status),
      });
    }
    out.result(status, describeStatus(status));
  } finally {
    target.close();
  }
}
