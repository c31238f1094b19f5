/**
 * `heritage models sync`: mirrors every model of the model manifest into the model bucket, which the
 * workers provision from. Run it once per model change, from a machine that can reach the sources.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import cliProgress from 'cli-progress';
import { parseCommand } from '../args.js';
import { UsageError } from '../exit-codes.js';
import { localAwsClients } from '../local/aws-clients.js';
import { type MirroredModel, mirrorModel } from '../models/mirror-model.js';
import { type LearnedChecksum, readModelList, recordChecksums } from '../models/model-list.js';
import { resolveSourceToken } from '../models/source-token.js';

const MiB = 1024 * 1024;

export const MODELS_SYNC_USAGE = `Usage: heritage models sync [options]

Downloads every model of the manifest from its source URL, checks or learns its sha256, and uploads it
to the model bucket (multipart, sha256 in the object metadata). Models already there are skipped.

  --manifest PATH        model manifest (default gpu-container/models.json)
  --bucket NAME          model bucket (or MODEL_BUCKET)
  --prefix PREFIX        key prefix in the bucket (or MODEL_PREFIX; default none)
  --token-secret ID      Secrets Manager secret holding the source token (default: HF_TOKEN, if set)
  --work-dir DIR         where each model is staged before upload (default: the system temp dir)
  --part-size-mib N      multipart part size (default 64)
  --endpoint URL         a local stack (or AWS_ENDPOINT_URL)`;

export async function modelsSync(args: string[]): Promise<void> {
  const { values } = parseCommand(
    'models sync',
    args,
    {
      manifest: { type: 'string', default: 'gpu-container/models.json' },
      bucket: { type: 'string' },
      prefix: { type: 'string' },
      'token-secret': { type: 'string' },
      'work-dir': { type: 'string' },
      'part-size-mib': { type: 'string', default: '64' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    { min: 0, max: 0, names: 'no arguments' },
  );
  if (values.help === true) {
    process.stdout.write(`${MODELS_SYNC_USAGE}\n`);
    return;
  }
  const bucket = values.bucket ?? process.env.MODEL_BUCKET;
  if (bucket === undefined || bucket === '') {
    throw new UsageError('models sync: needs --bucket or MODEL_BUCKET');
  }
  const partSize = Number(values['part-size-mib']) * MiB;
  if (!Number.isInteger(partSize) || partSize < 5 * MiB) {
    throw new UsageError('models sync: --part-size-mib must be a whole number of at least 5');
  }
  const endpoint = values.endpoint ?? process.env.AWS_ENDPOINT_URL;
  const s3 = endpoint === undefined || endpoint === '' ? new S3Client({}) : localAwsClients(endpoint).s3;
  const token = await resolveSourceToken({
    env: process.env,
    ...(values['token-secret'] === undefined ? {} : { tokenSecret: values['token-secret'] }),
    secrets: () => new SecretsManagerClient({}),
  });
  const list = await readModelList(values.manifest);
  const workDir = await mkdtemp(join(values['work-dir'] ?? tmpdir(), 'heritage-models-'));
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: '{name} |{bar}| {percentage}% {value}/{total} MB',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const learned: LearnedChecksum[] = [];
  try {
    for (const model of list.models satisfies MirroredModel[]) {
      let bar: cliProgress.SingleBar | undefined;
      let received = 0;
      const outcome = await mirrorModel(model, {
        s3,
        bucket,
        prefix: values.prefix ?? process.env.MODEL_PREFIX ?? '',
        workDir,
        partSize,
        ...(token === undefined ? {} : { token }),
        onStart: (_model, bytes) => {
          bar = bars.create(Math.round((bytes ?? 0) / 1e6), 0, { name: model.name });
        },
        onBytes: (bytes) => {
          received += bytes;
          bar?.update(Math.round(received / 1e6));
        },
      });
      bar?.stop();
      process.stdout.write(
        `${outcome.kind.padEnd(8)} ${model.folder}/${model.name} ${outcome.bytes} bytes sha256 ${outcome.sha256}\n`,
      );
      if (model.sha256 === null || model.bytes === null) {
        learned.push({
          folder: model.folder,
          name: model.name,
          sha256: outcome.sha256,
          bytes: outcome.bytes,
        });
      }
    }
  } finally {
    bars.stop();
    s3.destroy();
    await rm(workDir, { recursive: true, force: true });
    // What was learned before a failure is kept: those models are in the bucket already.
    if ((await recordChecksums(values.manifest, learned)) > 0) {
      process.stdout.write(
        `recorded the sha256 and size of ${learned.length} model(s) in ${values.manifest}\n`,
      );
    }
  }
}
