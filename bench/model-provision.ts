/**
 * Model provisioning benchmark: the provisioner (parallel ranged GETs, streaming sha256, atomic rename)
 * against one single-stream GetObject of the same object, both through the network model (per-request
 * latency, per-connection cap), reported as a ratio. Then the same on raw loopback, next to what bounds
 * it here: sha256 speed and disk write speed.
 *
 *   npm run bench -- model-provision           (1 GiB)
 *   HERITAGE_BENCH_MODEL_MIB=2048 HERITAGE_BENCH_THREADS=4 npm run bench -- model-provision
 *
 * On a machine without the repository: `npx tsx bench/bundle.ts`, then copy dist/bench/ over and run
 * `node dist/bench/model-provision.mjs` (docs/benchmarks.md, "Model provisioning").
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3ModelSource } from '../adapters/aws/s3-model-source.js';
import type { ModelSource } from '../contracts/model-source.js';
import { type ModelFile, provisionModels } from '../gpu-container/worker/provision/provision-models.js';
import {
  type HashingMode,
  type PartPlanOverrides,
  planParts,
} from '../gpu-container/worker/provision/ranged-download.js';
import { localAwsClients, localModelSource } from '../local/aws-clients.js';
import { S3_LIKE, startNetworkModelProxy } from './network-model-proxy.js';
import { answerCpuProbes, cpuSpread, formatCpuSpread, readChildCpu } from './store-cpu.js';

const MiB = 1024 * 1024;
/** The same network model as the frame-upload benchmark (docs/benchmarks.md, "Network model"). */
const NETWORK = S3_LIKE;
const BUCKET = 'heritage-models';

/**
 * The emulator's S3 and the network model run in processes of their own, so that the process measured
 * is the downloader alone, as on a worker. One emulator process serves a few hundred MB/s, far less
 * than S3's fleet, so the store is `lanes` emulator processes, each behind its own network-model
 * process, and the provisioner spreads its connections over them as S3's DNS spreads them over
 * front-end hosts. The single-stream baseline uses one lane: one connection reaches one host.
 */
interface Part {
  endpoint: string;
  child: ChildProcess;
}

async function startPart(role: 'store' | 'network', upstream = ''): Promise<Part> {
  const child = fork(fileURLToPath(import.meta.url), [role, upstream], { stdio: 'inherit' });
  const [message] = (await once(child, 'message')) as [{ endpoint: string }];
  return { endpoint: message.endpoint, child };
}

async function stopPart(part: Part): Promise<void> {
  const exited = once(part.child, 'exit');
  part.child.disconnect();
  await exited;
}

async function servePart(role: string, upstream: string): Promise<void> {
  answerCpuProbes();
  if (role === 'store') {
    const { startFauxqs } = await import('fauxqs');
    const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    server.createBucket(BUCKET);
    process.send?.({ endpoint: server.address });
  } else {
    const proxy = await startNetworkModelProxy({ upstream, ...NETWORK });
    process.send?.({ endpoint: proxy.endpoint });
  }
  // The parent ends this process when it is done with it.
  process.on('disconnect', () => process.exit(0));
}

/**
 * A ModelSource that hands each ranged read to the next of several sources in turn, and download
 * thread `thread` the descriptor of source `thread` modulo their number (one lane per thread when the
 * threads are a multiple of the lanes).
 */
function spreadOver(sources: S3ModelSource[]): ModelSource {
  let next = 0;
  const pick = (): ModelSource => {
    const source = sources[next % sources.length];
    next += 1;
    if (source === undefined) throw new Error('no source');
    return source;
  };
  return {
    head: (key) => pick().head(key),
    getRange: (key, start, end, signal) => pick().getRange(key, start, end, signal),
    describeForThread: (thread) => sources[thread % sources.length]?.describeForThread(),
  };
}

export interface ModelProvisionFigures {
  bytes: number;
  singleStreamMBps: number;
  provisionerMBps: number;
  ratio: number;
  provisionerAfterHashMBps: number;
  loopbackSingleStreamMBps: number;
  loopbackProvisionerMBps: number;
  loopbackAfterHashMBps: number;
  sha256MBps: number;
  diskWriteMBps: number;
}

/** HERITAGE_BENCH_PART_MIB, HERITAGE_BENCH_CONNECTIONS and HERITAGE_BENCH_THREADS override the provisioner's own plan. */
function planOverrides(): PartPlanOverrides {
  const part = Number(process.env.HERITAGE_BENCH_PART_MIB ?? Number.NaN);
  const connections = Number(process.env.HERITAGE_BENCH_CONNECTIONS ?? Number.NaN);
  const threads = Number(process.env.HERITAGE_BENCH_THREADS ?? Number.NaN);
  return {
    ...(Number.isFinite(part) ? { partSize: part * MiB } : {}),
    ...(Number.isFinite(connections) ? { concurrency: connections } : {}),
    ...(Number.isFinite(threads) ? { threads } : {}),
  };
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

/** Writes `bytes` of random data to `path` and returns their sha256. */
async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(16 * MiB);
  const file = await open(path, 'w');
  for (let written = 0; written < bytes; written += chunk.byteLength) {
    const piece = randomFillSync(chunk).subarray(0, Math.min(chunk.byteLength, bytes - written));
    hash.update(piece);
    await file.write(piece, 0, piece.byteLength, written);
  }
  await file.close();
  return hash.digest('hex');
}

async function uploadFile(s3: S3Client, key: string, path: string): Promise<void> {
  await new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: key, Body: createReadStream(path) },
    // The emulator takes request bodies of up to 11 MiB.
    partSize: 8 * MiB,
    queueSize: 4,
  }).done();
}

/** The baseline: one GetObject, streamed to a file through sha256, as a naive downloader does. */
async function singleStream(s3: S3Client, bucket: string, key: string, path: string): Promise<number> {
  const started = performance.now();
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(out.Body as Readable, hashing, createWriteStream(path));
  hash.digest('hex');
  return performance.now() - started;
}

async function provision(
  source: ModelSource,
  model: ModelFile,
  cacheDir: string,
  hashing: HashingMode,
): Promise<number> {
  const report = await provisionModels({
    source,
    models: [model],
    cacheDir,
    prefix: 'bench',
    download: { hashing, ...planOverrides() },
  });
  await rm(join(cacheDir, model.folder), { recursive: true, force: true });
  return report.totalMs;
}

function sha256Speed(bytes: number): number {
  const buffer = randomFillSync(Buffer.allocUnsafe(64 * MiB));
  const hash = createHash('sha256');
  const started = performance.now();
  for (let done = 0; done < bytes; done += buffer.byteLength) hash.update(buffer);
  hash.digest();
  return mbps(Math.ceil(bytes / buffer.byteLength) * buffer.byteLength, performance.now() - started);
}

async function diskWriteSpeed(path: string, bytes: number): Promise<number> {
  const buffer = randomFillSync(Buffer.allocUnsafe(16 * MiB));
  const started = performance.now();
  const file = await open(path, 'w');
  for (let position = 0; position < bytes; position += buffer.byteLength) {
    await file.write(buffer, 0, buffer.byteLength, position);
  }
  await file.sync();
  await file.close();
  const ms = performance.now() - started;
  await rm(path);
  return mbps(bytes, ms);
}

export async function benchModelProvision(
  bytes = Number(process.env.HERITAGE_BENCH_MODEL_MIB ?? 1024) * MiB,
) {
  const workDir = await mkdtemp(join(process.env.HERITAGE_BENCH_DIR ?? tmpdir(), 'heritage-bench-models-'));
  const key = 'bench/diffusion_models/bench.safetensors';
  const lanes = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 4)));
  const stores = await Promise.all(Array.from({ length: lanes }, () => startPart('store')));
  const networks = await Promise.all(stores.map((store) => startPart('network', store.endpoint)));
  const direct = stores.map((store) => localAwsClients(store.endpoint).s3);
  const modelled = networks.map((network) => localAwsClients(network.endpoint).s3);
  const [oneDirect, oneModelled] = [direct[0], modelled[0]];
  if (oneDirect === undefined || oneModelled === undefined) throw new Error('no lane started');
  // Opened from descriptors, so that download threads open sources of their own on the same lanes.
  const laneSources = (lanes: Part[]) =>
    lanes.map((lane) => S3ModelSource.open(localModelSource(lane.endpoint, BUCKET)));
  const [directSources, modelledSources] = [laneSources(stores), laneSources(networks)];
  const aws = { modelBucket: BUCKET };
  try {
    const original = join(workDir, 'original.bin');
    console.log(
      `model provisioning: generating ${(bytes / MiB).toFixed(0)} MiB, uploading to ${lanes} emulator(s) ...`,
    );
    const sha256 = await writeRandomFile(original, bytes);
    await Promise.all(direct.map((s3) => uploadFile(s3, key, original)));
    await rm(original);
    const model: ModelFile = { name: 'bench.safetensors', folder: 'diffusion_models', sha256, bytes };
    const plan = planParts(bytes, planOverrides());
    const file = join(workDir, 'single.bin');
    // The store side's CPU is read just outside the downloader's own interval (one IPC round trip, well
    // under a millisecond, with the children idle) and divided by the same wall time.
    const readCpu = (parts: Part[]) => Promise.all(parts.map((part) => readChildCpu(part.child)));
    const storeCpu = () => Promise.all([readCpu(stores), readCpu(networks)]);
    const run = async (label: string, measure: () => Promise<number>) => {
      const [storesBefore, networksBefore] = await storeCpu();
      const cpu = process.cpuUsage();
      const ms = await measure();
      const used = process.cpuUsage(cpu);
      const [storesAfter, networksAfter] = await storeCpu();
      const cores = (used.user + used.system) / 1000 / ms;
      const emulators = formatCpuSpread('emulators', cpuSpread(storesBefore, storesAfter, ms));
      const network = formatCpuSpread('network model', cpuSpread(networksBefore, networksAfter, ms));
      console.log(
        `  ${label.padEnd(52)} ${(ms / 1000).toFixed(2).padStart(6)} s ${mbps(bytes, ms).toFixed(0).padStart(5)} MB/s  downloader CPU ${cores.toFixed(2)} cores, ${emulators}, ${network}`,
      );
      return mbps(bytes, ms);
    };
    console.log(
      `  ${lanes} lane(s); network model: ${NETWORK.latencyMs} ms per request, ${(NETWORK.bytesPerSecond / 1e6).toFixed(1)} MB/s per connection; provisioner plan: ${plan.parts} parts of ${plan.partSize / MiB} MiB, ${plan.concurrency} connections on ${plan.threads} thread(s)`,
    );
    const singleStreamMBps = await run('single-stream GetObject (network model)', () =>
      singleStream(oneModelled, aws.modelBucket, key, file),
    );
    const provisionerMBps = await run('provisioner, pipelined sha256 (network model)', () =>
      provision(spreadOver(modelledSources), model, workDir, 'pipelined'),
    );
    const provisionerAfterHashMBps = await run('provisioner, sha256 after download (network model)', () =>
      provision(spreadOver(modelledSources), model, workDir, 'after'),
    );
    const loopbackSingleStreamMBps = await run('single-stream GetObject (raw loopback)', () =>
      singleStream(oneDirect, aws.modelBucket, key, file),
    );
    const loopbackProvisionerMBps = await run('provisioner, pipelined sha256 (raw loopback)', () =>
      provision(spreadOver(directSources), model, workDir, 'pipelined'),
    );
    const loopbackAfterHashMBps = await run('provisioner, sha256 after download (raw loopback)', () =>
      provision(spreadOver(directSources), model, workDir, 'after'),
    );
    const sha256MBps = sha256Speed(bytes);
    const diskWriteMBps = await diskWriteSpeed(file, bytes);
    console.log(
      `  sha256 alone, one core: ${sha256MBps.toFixed(0)} MB/s; disk write + fsync: ${diskWriteMBps.toFixed(0)} MB/s`,
    );
    const figures: ModelProvisionFigures = {
      bytes,
      singleStreamMBps,
      provisionerMBps,
      ratio: provisionerMBps / singleStreamMBps,
      provisionerAfterHashMBps,
      loopbackSingleStreamMBps,
      loopbackProvisionerMBps,
      loopbackAfterHashMBps,
      sha256MBps,
      diskWriteMBps,
    };
    console.log(`  provisioner / single stream (network model): ${figures.ratio.toFixed(1)}x (target >= 8x)`);
    return figures;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    for (const s3 of [...modelled, ...direct]) s3.destroy();
    for (const source of [...modelledSources, ...directSources]) source.close();
    await Promise.all([...networks, ...stores].map(stopPart));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [role, upstream = ''] = process.argv.slice(2);
  if (role === undefined) await benchModelProvision();
  else await servePart(role, upstream);
}
