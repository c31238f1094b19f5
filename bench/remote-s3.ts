/**
 * The S3 side of a benchmark, in its own process: the local emulator and the network model in front of
 * it. Run apart from the code being measured, as S3 is, so the emulator's CPU is not charged to the
 * uploader. `startRemoteS3()` spawns this file; run directly, it serves until stdin closes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFauxqs } from 'fauxqs';
import { LOCAL_NAMES, LOCAL_REGION } from '../cli/local/local-aws.js';
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

type Endpoints = Omit<RemoteS3, 'stop'>;
type ModelShape = Omit<NetworkModelOptions, 'upstream' | 'port'>;

export async function startRemoteS3(model: ModelShape): Promise<RemoteS3> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(model)],
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
async function serve(model: ModelShape): Promise<void> {
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await serve(JSON.parse(process.argv[2] ?? '{}') as ModelShape);
}
