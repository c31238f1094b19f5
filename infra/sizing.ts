/**
 * Derives the Batch job size from the instance types so that one worker takes exactly one GPU and
 * a full instance packs one worker per GPU (8 on a p5.48xlarge). Pure: the tests call it directly.
 */
import { GPU_INSTANCE_TYPES, type GpuInstanceTypeName } from './instance-types.js';

const MIB_PER_GIB = 1024;

/**
 * The ECS agent registers less memory than the instance has, and the host needs room for the kernel,
 * Docker, the agent and the page cache of the NVMe model cache. A job asking for more than is
 * registered stays RUNNABLE forever, so the reserve errs on the generous side.
 */
export const MEMORY_RESERVE_FRACTION = 0.06;
export const MIN_MEMORY_RESERVE_MIB = 4 * MIB_PER_GIB;

/** ComfyUI loads the fp8 Wan2.2 experts (about 37 GB) through host memory before moving them to the GPU. */
export const MIN_WORKER_MEMORY_MIB = 96 * MIB_PER_GIB;
export const MIN_WORKER_VCPUS = 4;
/** PyTorch data loaders and the RIFE node use /dev/shm; Docker's 64 MB default is far too small. */
export const DEFAULT_SHARED_MEMORY_MIB = 32 * MIB_PER_GIB;

export interface SizingOptions {
  readonly instanceTypes: readonly GpuInstanceTypeName[];
  readonly maxWorkers: number;
  readonly sharedMemoryMiB?: number | undefined;
}

export interface WorkerSizing {
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly sharedMemoryMiB: number;
  readonly gpus: 1;
  /** Workers one instance of the smallest configured type holds. */
  readonly workersPerInstance: number;
  /** Room for maxWorkers, rounded up to whole instances of the largest configured type. */
  readonly maxvCpus: number;
}

export class SizingError extends Error {
  override readonly name = 'SizingError';
}

/** The memory one GPU's share of an instance may use once the host reserve is taken off. */
export function memoryPerGpuMiB(name: GpuInstanceTypeName): number {
  const type = GPU_INSTANCE_TYPES[name];
  const totalMiB = type.memoryGiB * MIB_PER_GIB;
  const reserveMiB = Math.max(MIN_MEMORY_RESERVE_MIB, Math.ceil(totalMiB * MEMORY_RESERVE_FRACTION));
  const perGpu = Math.floor((totalMiB - reserveMiB) / type.gpus);
  return perGpu - (perGpu % MIB_PER_GIB);
}

export function sizeWorker(options: SizingOptions): WorkerSizing {
  const types = options.instanceTypes.map((name) => GPU_INSTANCE_TYPES[name]);
  if (types.length === 0)
    throw new SizingError('instanceTypes is empty: name at least one p5 instance type.');
  const vcpus = Math.min(...types.map((type) => Math.floor(type.vcpus / type.gpus)));
  const memoryMiB = Math.min(...options.instanceTypes.map(memoryPerGpuMiB));
  const sharedMemoryMiB = options.sharedMemoryMiB ?? Math.min(DEFAULT_SHARED_MEMORY_MIB, memoryMiB / 4);
  const described = options.instanceTypes.join(', ');

  if (vcpus < MIN_WORKER_VCPUS) {
    throw new SizingError(`${described}: ${vcpus} vCPUs per GPU is below the worker's ${MIN_WORKER_VCPUS}.`);
  }
  if (memoryMiB < MIN_WORKER_MEMORY_MIB) {
    throw new SizingError(
      `${described}: ${memoryMiB} MiB per GPU after the host reserve is below the worker's ${MIN_WORKER_MEMORY_MIB} MiB.`,
    );
  }
  if (sharedMemoryMiB >= memoryMiB / 2) {
    throw new SizingError(
      `sharedMemoryMiB ${sharedMemoryMiB} does not fit: /dev/shm counts against the job's ${memoryMiB} MiB, ` +
        `so it must stay below half of it (${memoryMiB / 2} MiB).`,
    );
  }

  const largest = Math.max(...types.map((type) => type.vcpus));
  const instancesNeeded = Math.ceil((options.maxWorkers * vcpus) / largest);
  return {
    vcpus,
    memoryMiB,
    sharedMemoryMiB,
    gpus: 1,
    workersPerInstance: Math.min(...types.map((type) => type.gpus)),
    maxvCpus: instancesNeeded * largest,
  };
}
