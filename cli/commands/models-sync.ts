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
import { localAwsClients } from '../../local/aws-clients.js';
import { COMMON_OPTIONS, parseCommand } from '../args.js';
import { UsageError } from '../exit-codes.js';
import { type MirroredModel, mirrorModel } from '../models/mirror-model.js';
import { type LearnedChecksum, readModelList, recordChecksums } from '../models/model-list.js';
import {
  type ModelTarget,
  type ModelTargetFlags,
  type ReadModelOutputs,
  resolveModelTarget,
} from '../models/model-target.js';
import { resolveSourceToken } from '../models/source-token.js';
import { createOutput } from '../output.js';
import { readStackOutputs } from '../target.js';

const MiB = 1024 * 1024;

export const MODELS_SYNC_USAGE = `heritage models sync [options]

Downloads every model of the manifest from its source URL, checks or learns its sha256, and uploads it
to the model bucket (multipart, sha256 in the object metadata). Models already there are skipped.
The bucket and prefix are where the deployed stack's workers read models: the ModelBucketName and
ModelPrefix outputs of --stack, as the other cloud commands read theirs.

  --stack NAME           stack to read the outputs of (or HERITAGE_STACK; default Heritage)
  --bucket NAME          another model bucket, no stack lookup (or MODEL_BUCKET)
  --prefix PREFIX        key prefix in the bucket (or MODEL_PREFIX; default: the stack's, models/)
  --region REGION        AWS region (or AWS_REGION / AWS_DEFAULT_REGION)
  --manifest PATH        model manifest (default gpu-container/models.json)
  --token-secret ID      Secrets Manager secret holding the source token (default: HF_TOKEN, if set)
  --work-dir DIR         where each model is staged before upload (default: the system temp dir)
  --part-size-mib N      multipart part size (default 64)
  --endpoint URL         a local stack (or AWS_ENDPOINT_URL): its model bucket, prefix none
  --json                 one JSON document on stdout`;

export const MODELS_SYNC_OPTIONS = {
  ...COMMON_OPTIONS,
  manifest: { type: 'string', default: 'gpu-container/models.json' },
  stack: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  region: { type: 'string' },
  'token-secret': { type: 'string' },
  'work-dir': { type: 'string' },
  'part-size-mib': { type: 'string', default: '64' },
  endpoint: { type: 'string' },
} as const;

/** Where `heritage models sync` with these flags puts the models, in this environment. */
export async function modelsSyncTarget(
  args: string[],
  env: Record<string, string | undefined>,
  readOutputs: ReadModelOutputs,
): Promise<ModelTarget> {
  const { values } = parseCommand('models sync', args, MODELS_SYNC_OPTIONS, {
    min: 0,
    max: 0,
    names: 'no arguments',
  });
  return resolveModelTarget(values, env, readOutputs);
}

async function resolveTargetOf(values: ModelTargetFlags): Promise<ModelTarget> {
  return resolveModelTarget(values, process.env, (stack, region) =>
    readStackOutputs(stack, region, ['ModelBucketName', 'ModelPrefix']),
  );
}

export async function modelsSync(args: string[]): Promise<void> {
  const { values } = parseCommand('models sync', args, MODELS_SYNC_OPTIONS, {
    min: 0,
    max: 0,
    names: 'no arguments',
  });
  const out = createOutput(values.json === true, 'models sync');
  if (values.help === true) return out.help(MODELS_SYNC_USAGE);
  const partSize = Number(values['part-size-mib']) * MiB;
  if (!Number.isInteger(partSize) || partSize < 5 * MiB) {
    throw new UsageError('models sync: --part-size-mib must be a whole number of at least 5');
  }
  const target = await resolveTargetOf(values);
  const { bucket, prefix } = target;
  out.line(`models sync: to s3://${bucket}/${prefix} (from ${target.from})`);
  if (target.warning !== undefined) out.line(`models sync: warning: ${target.warning}`);
  const s3 =
    target.endpoint === undefined
      ? new S3Client(target.region === undefined ? {} : { region: target.region })
      : localAwsClients(target.endpoint).s3;
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
  const mirrored: Array<{ folder: string; name: string; outcome: string; bytes: number; sha256: string }> =
    [];
  try {
    for (const model of list.models satisfies MirroredModel[]) {
      let bar: cliProgress.SingleBar | undefined;
      let received = 0;
      const outcome = await mirrorModel(model, {
        s3,
        bucket,
        prefix,
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
      out.line(
        `${outcome.kind.padEnd(8)} ${model.folder}/${model.name} ${outcome.bytes} bytes sha256 ${outcome.sha256}`,
      );
      mirrored.push({
        folder: model.folder,
        name: model.name,
        outcome: outcome.kind,
        bytes: outcome.bytes,
        sha256: outcome.sha256,
      });
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
      out.line(`recorded the sha256 and size of ${learned.length} model(s) in ${values.manifest}`);
    }
  }
  out.result({ bucket, prefix, models: mirrored }, [
    `${mirrored.length} model(s) in s3://${bucket}/${prefix}`,
  ]);
}
