/**
 * The S3 side of a benchmark, in its own process: the local emulator and the network model in front of
 * it. Run apart from the code being measured, as S3 is, so the emulator's CPU is not charged to the
 * uploader. `startRemoteS3()` starts the bench entry point again with REMOTE_S3_FLAG, which serves until
 * stdin closes; this works the same from source (tsx) and from a bundle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startFauxqs } from 'fauxqs';
import { LOCAL_NAMES, LOCAL_REGION } from '../local/local-aws.js';
import { type NetworkModelOptions, startNetworkModelProxy } from './network-model-proxy.js';

export interface RemoteS3 {
  /** The emulator's own endpoint (raw loopback). */
  endpoint: string;
  /** The network model's endpoint. */
  modelEndpoint: string;
  bucket: string;
  workQueueUrl: string;
  topicArn: string;
  stop(): Promise<void>;
}

export const REMOTE_S3_FLAG = '--serve-remote-s3';

type Endpoints = Omit<RemoteS3, 'stop'>;
export type ModelShape = Omit<NetworkModelOptions, 'upstream' | 'port'>;

export async function startRemoteS3(model: ModelShape): Promise<RemoteS3> {
  const entry = process.argv[1] ?? '';
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, entry, REMOTE_S3_FLAG, JSON.stringify(model)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout ?? process.stdin });
  const endpoints = await new Promise<Endpoints>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Endpoints));
    child.once('exit', (code) => reject(new Error(`remote S3 exited early with code ${code}`)));
  });
  return {
    ...endpoints,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin?.end();
      }),
  };
}

/**
 * fauxqs on its own, without the local stack's conditional-write gateway: benchmarks write frames and
 * results, which need no If-Match, and one proxy hop less keeps the emulator's CPU out of the figures.
 */
export async function serveRemoteS3(model: ModelShape): Promise<void> {
  const aws = await startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION });
  aws.createBucket(LOCAL_NAMES.bucket);
  const work = aws.createQueue(LOCAL_NAMES.workQueue, { attributes: { VisibilityTimeout: '120' } });
  const { topicArn } = aws.createTopic(LOCAL_NAMES.topic);
  const proxy = await startNetworkModelProxy({ upstream: aws.address, ...model });
  const endpoints: Endpoints = {
    endpoint: aws.address,
    modelEndpoint: proxy.endpoint,
    bucket: LOCAL_NAMES.bucket,
    workQueueUrl: work.queueUrl,
    topicArn,
  };
  process.stdout.write(`${JSON.stringify(endpoints)}\n`);
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', () => resolve()));
  await proxy.close();
  await aws.stop();
}
