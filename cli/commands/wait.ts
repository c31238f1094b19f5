/**
 * heritage wait <id>: polls status.json until the request is terminal (no SNS subscription needed, so it
 * works with read-only bucket access). With --out it then downloads the outputs.
 */
import { join } from 'node:path';
import { assertRequestId } from '../../contracts/keys.js';
import { COMMON_OPTIONS, parseCommand, secondsFlag, TARGET_OPTIONS } from '../args.js';
import { createOutput, formatBytes } from '../output.js';
import { createProgress, type Stage } from '../progress.js';
import { assertSucceeded, awaitTerminalStatus } from '../requests/await-request.js';
import { downloadOutputs } from '../requests/download-outputs.js';
import { explainUnclaimed, hasManifest } from '../requests/explain-request.js';
import { resolveTarget } from '../target.js';
import { describeStatus } from './status.js';

export const WAIT_USAGE = `heritage wait <id> [--timeout SECONDS] [--out DIR]
  waits until the request succeeded (exit 0) or failed/was rejected/timed out (exit 1);
  exits 1 at once when there is no manifest at inbox/<id>/;
  with --out, downloads the outputs to DIR/<id>/`;

export async function wait(args: string[]): Promise<void> {
  const options = {
    ...COMMON_OPTIONS,
    ...TARGET_OPTIONS,
    timeout: { type: 'string' },
    out: { type: 'string' },
  } as const;
  const { values, positionals } = parseCommand('wait', args, options, { min: 1, max: 1, names: '<id>' });
  const out = createOutput(values.json === true, 'wait');
  if (values.help === true) return out.help(WAIT_USAGE);
  const id = assertRequestId(positionals[0] ?? '');
  const timeoutSeconds = secondsFlag('timeout', values.timeout, 1800);
  const target = await resolveTarget(values);
  const progress = createProgress({
    interactive: !out.json && process.stdout.isTTY === true,
    write: out.line,
  });
  try {
    // Nothing to wait for unless a manifest is there for dispatch to take.
    if ((await target.statuses.read(id)) === undefined && !(await hasManifest(target, id))) {
      throw await explainUnclaimed(target, id);
    }
    const inference = progress.stage('inference', 100, '%');
    const final = await awaitTerminalStatus(target.statuses, id, {
      timeoutMs: timeoutSeconds * 1000,
      onStatus: (s) => inference.update(Math.round(s?.progress?.percent ?? 0), s?.state ?? 'not claimed yet'),
    });
    inference.done(final.state);
    assertSucceeded(final);
    if (values.out === undefined) {
      progress.stop();
      return out.result(final, describeStatus(final));
    }
    const dir = join(values.out, id);
    let download: Stage | undefined;
    const outputs = await downloadOutputs(target.objects, id, dir, (files, total) => {
      download ??= progress.stage('download', total, 'files');
      download.update(files);
    });
    download?.done(formatBytes(outputs.bytes));
    progress.stop();
    out.result({ ...final, out: dir }, [...describeStatus(final), `  downloaded to ${dir}`]);
  } finally {
    progress.stop();
    target.close();
  }
}
