/** heritage fetch <id> --out DIR: downloads frames, video.mp4 and result.json of a finished request. */
import { join } from 'node:path';
import { assertRequestId } from '../../contracts/keys.js';
import { COMMON_OPTIONS, parseCommand, TARGET_OPTIONS } from '../args.js';
import { createOutput, formatBytes } from '../output.js';
import { createProgress, type Stage } from '../progress.js';
import { describeOutputs, downloadOutputs, readResult } from '../requests/download-outputs.js';
import { explainNoResult, explainUnclaimed } from '../requests/explain-request.js';
import { resolveTarget, type Target } from '../target.js';

export const FETCH_USAGE = `heritage fetch <id> [--out DIR]
  downloads frames, video.mp4 and result.json of a succeeded request to DIR/<id>/ (default ./out/<id>/);
  exit 1 when it failed, was rejected, is not finished, or was never submitted`;

/** Nothing to download: say why (rejected, still running, no manifest at all). */
async function explainMissingResult(target: Target, id: string): Promise<Error> {
  const record = await target.statuses.read(id);
  return record === undefined ? explainUnclaimed(target, id) : explainNoResult(record.status);
}

export async function fetch(args: string[]): Promise<void> {
  const options = { ...COMMON_OPTIONS, ...TARGET_OPTIONS, out: { type: 'string' } } as const;
  const { values, positionals } = parseCommand('fetch', args, options, { min: 1, max: 1, names: '<id>' });
  const out = createOutput(values.json === true, 'fetch');
  if (values.help === true) return out.help(FETCH_USAGE);
  const id = assertRequestId(positionals[0] ?? '');
  const dir = join(values.out ?? 'out', id);
  const target = await resolveTarget(values);
  const progress = createProgress({
    interactive: !out.json && process.stdout.isTTY === true,
    write: out.line,
  });
  try {
    if ((await readResult(target.objects, id)) === undefined) throw await explainMissingResult(target, id);
    let download: Stage | undefined;
    const outputs = await downloadOutputs(target.objects, id, dir, (files, total) => {
      download ??= progress.stage('download', total, 'files');
      download.update(files);
    });
    download?.done(formatBytes(outputs.bytes));
    progress.stop();
    const { frames } = outputs.result;
    out.result({ request_id: id, ...describeOutputs(outputs) }, [
      `${frames.count} frames (${frames.width}x${frames.height}, ${frames.fps} fps) in ${outputs.framesDir}`,
      ...(outputs.videoFile === undefined ? [] : [`video: ${outputs.videoFile}`]),
      `result: ${outputs.resultFile}`,
    ]);
  } finally {
    progress.stop();
    target.close();
  }
}
