/** heritage submit <start> <end> [flags]: validate locally, upload the images, then the manifest. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareSubmission } from '../../local/submission/prepare-submission.js';
import { uploadSubmission } from '../../local/submission/upload-submission.js';
import { COMMON_OPTIONS, integerFlag, parseCommand, secondsFlag, TARGET_OPTIONS } from '../args.js';
import { UsageError } from '../exit-codes.js';
import { createOutput, formatBytes } from '../output.js';
import { createProgress, type Stage } from '../progress.js';
import { assertSucceeded, awaitTerminalStatus } from '../requests/await-request.js';
import { downloadOutputs } from '../requests/download-outputs.js';
import { assertIdUnused } from '../requests/explain-request.js';
import { resolveTarget } from '../target.js';

export const SUBMIT_USAGE = `heritage submit <start-image> <end-image> [options]
  --prompt TEXT            what should happen between the frames
  --negative-prompt TEXT   what to avoid
  --steps N                sampling steps, 4-20 (default 8)
  --resolution N           short side: 480, 640, 720 or 1080 (default 640)
  --frames N               frame_length: 4n+1 between 17 and 129 (default 65)
  --seed N                 0 = random (default 0)
  --interpolation N        RIFE multiplier 1, 2 or 4 (default 2)
  --no-video               frames only, no video.mp4
  --client-reference TEXT  echoed back in the completion event
  --id ID                  request id, single-use (default: a fresh one, time-based)
  --wait                   wait for the request to finish, then download it
  --out DIR                where --wait downloads to: DIR/<id>/ (default ./out)
  --timeout SECONDS        how long --wait waits (default 1800)`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...TARGET_OPTIONS,
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  steps: { type: 'string' },
  resolution: { type: 'string' },
  frames: { type: 'string' },
  seed: { type: 'string' },
  interpolation: { type: 'string' },
  'no-video': { type: 'boolean' },
  'client-reference': { type: 'string' },
  id: { type: 'string' },
  wait: { type: 'boolean' },
  out: { type: 'string' },
  timeout: { type: 'string' },
} as const;

async function readImage(path: string, which: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new UsageError(
      `${which} image ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

export async function submit(args: string[]): Promise<void> {
  const { values, positionals } = parseCommand('submit', args, OPTIONS, {
    min: 2,
    max: 2,
    names: '<start-image> <end-image>',
  });
  const out = createOutput(values.json === true, 'submit');
  if (values.help === true) return out.help(SUBMIT_USAGE);
  if (values.out !== undefined && values.wait !== true) throw new UsageError('submit: --out needs --wait');
  const timeoutSeconds = secondsFlag('timeout', values.timeout, 1800);
  const fields: Record<string, unknown> = {};
  const numbers = {
    steps: 'steps',
    resolution: 'resolution',
    frames: 'frame_length',
    seed: 'seed',
    interpolation: 'interpolation',
  } as const;
  for (const [flag, field] of Object.entries(numbers)) {
    const value = integerFlag(flag, values[flag as keyof typeof numbers]);
    if (value !== undefined) fields[field] = value;
  }
  if (values.prompt !== undefined) fields.positive_prompt = values.prompt;
  if (values['negative-prompt'] !== undefined) fields.negative_prompt = values['negative-prompt'];
  if (values['client-reference'] !== undefined) fields.client_reference = values['client-reference'];
  if (values['no-video'] === true) fields.video = false;
  const [startPath = '', endPath = ''] = positionals;
  const submission = prepareSubmission({
    id: values.id,
    start: await readImage(startPath, 'start'),
    end: await readImage(endPath, 'end'),
    fields,
  });

  const target = await resolveTarget(values);
  try {
    await assertIdUnused(target, submission.id);
  } catch (error) {
    target.close();
    throw error;
  }
  const progress = createProgress({
    interactive: !out.json && process.stdout.isTTY === true,
    write: out.line,
  });
  try {
    const upload = progress.stage('upload', submission.objects.length, 'objects');
    let uploaded = 0;
    const { bytes } = await uploadSubmission(target.objects, submission, (sent) => {
      if (sent > 0) uploaded += 1;
      upload.update(uploaded);
    });
    upload.done(formatBytes(bytes));
    const { geometry } = submission;
    const summary = {
      request_id: submission.id,
      bucket: target.bucket,
      manifest_key: submission.objects.at(-1)?.key,
      expected: {
        frames: geometry.frames,
        width: geometry.width,
        height: geometry.height,
        fps: geometry.fps,
      },
    };
    if (values.wait !== true) {
      progress.stop();
      return out.result(summary, [
        `submitted ${submission.id} to s3://${target.bucket}/inbox/${submission.id}/`,
        `expect ${geometry.frames} frames of ${geometry.width}x${geometry.height} at ${geometry.fps} fps`,
        `follow it with: heritage wait ${submission.id}`,
      ]);
    }
    const inference = progress.stage('inference', 100, '%');
    const status = assertSucceeded(
      await awaitTerminalStatus(target.statuses, submission.id, {
        timeoutMs: timeoutSeconds * 1000,
        onStatus: (s) => inference.update(Math.round(s?.progress?.percent ?? 0), s?.state ?? 'submitted'),
      }),
    );
    inference.done(status.state);
    const dir = join(values.out ?? 'out', submission.id);
    let download: Stage | undefined;
    const outputs = await downloadOutputs(target.objects, submission.id, dir, (files, total) => {
      download ??= progress.stage('download', total, 'files');
      download.update(files);
    });
    download?.done(formatBytes(outputs.bytes));
    progress.stop();
    out.result({ ...summary, state: status.state, out: dir }, [
      `${submission.id} succeeded: ${outputs.result.frames.count} frames in ${outputs.framesDir}`,
    ]);
  } finally {
    progress.stop();
    target.close();
  }
}
