import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestKeys } from '../../contracts/keys.js';
import { LOCAL_CREDENTIALS } from '../../local/local-aws.js';
import { type Emulator, startEmulator } from '../support/emulator.js';
import { seedRequest, workDir } from './worker-fixtures.js';

let aws: Emulator;
let dir: string;

beforeAll(async () => {
  aws = await startEmulator();
  dir = await workDir();
});
afterAll(async () => {
  await aws.stop();
  await rm(dir, { recursive: true, force: true });
});

function startWorker(
  env: Record<string, string>,
): ChildProcess & { exited: Promise<number | null>; output: () => string } {
  // As the local stack starts workers: node itself, so SIGTERM reaches the worker and not a wrapper
  // (the tsx command relays it, and kills the worker when the relay takes more than 30 ms).
  const child = spawn(process.execPath, ['--import', 'tsx', 'gpu-container/worker/main.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REGION: aws.region,
      AWS_ENDPOINT_URL: aws.endpoint,
      REQUEST_BUCKET: aws.bucket,
      WORK_QUEUE_URL: aws.workQueueUrl,
      COMPLETIONS_TOPIC_ARN: aws.topicArn,
      WORK_DIR: dir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Both streams, as the container's log driver ships them.
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return Object.assign(child, { exited, output: () => Buffer.concat(chunks).toString('utf8') });
}

describe('worker process', () => {
  it('renders a request with the preview engine and exits 0 when idle timeout is 0', async () => {
    // Prepare
    const listener = aws.listen();
    await seedRequest(aws, 'proc-1', { video: true });

    // Act
    const code = await startWorker({ IDLE_TIMEOUT_SECONDS: '0' }).exited;

    // Assess
    expect(code).toBe(0);
    expect((await aws.statuses.read('proc-1'))?.status.state).toBe('succeeded');
    expect(await aws.objects.head(requestKeys('proc-1').result)).toBeDefined();
    const events = await listener.drain();
    expect(events.map((e) => [e.request_id, e.status, e.engine])).toEqual([
      ['proc-1', 'succeeded', 'preview'],
    ]);
  });

  it('logs JSON lines only, names the request on every line of its run, and reports its metrics as EMF', async () => {
    // Prepare
    await seedRequest(aws, 'proc-logs');
    const worker = startWorker({ IDLE_TIMEOUT_SECONDS: '0' });

    // Act
    await worker.exited;

    // Assess
    const lines = worker
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const metrics = lines.filter((line) => '_aws' in line);
    const logs = lines.filter((line) => !('_aws' in line));
    const first = logs.findIndex((line) => line.request_id === 'proc-logs');
    const last = logs.findLastIndex((line) => line.request_id === 'proc-logs');
    expect(logs.slice(first, last + 1).every((line) => line.request_id === 'proc-logs')).toBe(true);
    expect(logs[first]).toMatchObject({ message: 'request taken', receive_count: 1 });
    expect(logs.slice(last - 1, last + 1).map((line) => line.message)).toEqual([
      'request succeeded',
      'request left',
    ]);
    expect(logs[last]).toMatchObject({ outcome: 'succeeded' });
    expect(logs.slice(last + 1).map((line) => line.message)).toEqual(['worker exiting']);
    expect(metrics).toEqual([
      expect.objectContaining({
        request_id: 'proc-logs',
        outcome: 'succeeded',
        service: 'heritage',
        RequestsSucceeded: 1,
        Frames: 33,
        GpuSeconds: expect.any(Number),
        _aws: expect.objectContaining({
          CloudWatchMetrics: [expect.objectContaining({ Namespace: 'Heritage', Dimensions: [['service']] })],
        }),
      }),
    ]);
  });

  it('on SIGTERM mid-render exits 0 and hands the request back', async () => {
    // Prepare: a long preview render (513 frames at 720 px), so SIGTERM lands while it runs.
    await seedRequest(aws, 'proc-term', { frameLength: 129, interpolation: 4, width: 1280, height: 720 });
    const worker = startWorker({ IDLE_TIMEOUT_SECONDS: '60' });
    while ((await aws.statuses.read('proc-term'))?.status.state !== 'running') await sleep(100);

    // Act
    worker.kill('SIGTERM');
    const code = await worker.exited;

    // Assess
    expect(code).toBe(0);
    expect((await aws.statuses.read('proc-term'))?.status.state).toBe('queued');
    const again = await aws.workQueue.receive({ waitSeconds: 1, visibilitySeconds: 30 });
    expect(again?.receiveCount).toBe(2);
  });

  it('exits 2 naming the variable when configuration is missing', async () => {
    // Act
    const code = await startWorker({ COMPLETIONS_TOPIC_ARN: '' }).exited;

    // Assess
    expect(code).toBe(2);
  });
});
