import { describe, expect, it } from 'vitest';
import { GPU_INSTANCE_TYPE_NAMES, GPU_INSTANCE_TYPES } from '../../infra/instance-types.js';
import { MIN_WORKER_MEMORY_MIB, SizingError, sizeWorker } from '../../infra/sizing.js';

const MIB_PER_GIB = 1024;

describe('worker sizing', () => {
  it.each(GPU_INSTANCE_TYPE_NAMES)(
    'packs one worker per GPU onto a %s with room left for the host',
    (name) => {
      // Prepare
      const type = GPU_INSTANCE_TYPES[name];

      // Act
      const sizing = sizeWorker({ instanceTypes: [name], maxWorkers: 8 });

      // Assess
      expect(sizing.gpus).toBe(1);
      expect(sizing.workersPerInstance).toBe(type.gpus);
      expect(sizing.vcpus * type.gpus).toBeLessThanOrEqual(type.vcpus);
      const hostMemoryMiB = type.memoryGiB * MIB_PER_GIB;
      expect(sizing.memoryMiB * type.gpus).toBeLessThanOrEqual(hostMemoryMiB * 0.94);
      expect(sizing.memoryMiB).toBeGreaterThanOrEqual(MIN_WORKER_MEMORY_MIB);
      expect(sizing.memoryMiB % MIB_PER_GIB).toBe(0);
      expect(sizing.sharedMemoryMiB).toBeLessThan(sizing.memoryMiB / 2);
    },
  );

  it('gives each of the 8 workers on a p5.48xlarge 24 vCPUs, 240 GiB and 32 GiB of /dev/shm', () => {
    // Act
    const sizing = sizeWorker({ instanceTypes: ['p5.48xlarge'], maxWorkers: 8 });

    // Assess
    expect(sizing).toEqual({
      vcpus: 24,
      memoryMiB: 240 * MIB_PER_GIB,
      sharedMemoryMiB: 32 * MIB_PER_GIB,
      gpus: 1,
      workersPerInstance: 8,
      maxvCpus: 192,
    });
  });

  it('gives the single worker of a p5.4xlarge all 16 vCPUs', () => {
    // Act
    const sizing = sizeWorker({ instanceTypes: ['p5.4xlarge'], maxWorkers: 3 });

    // Assess
    expect(sizing.vcpus).toBe(16);
    expect(sizing.workersPerInstance).toBe(1);
    expect(sizing.maxvCpus).toBe(48);
  });

  it('rounds maxvCpus up to whole instances so that a partly used host is not refused', () => {
    // Act
    const one = sizeWorker({ instanceTypes: ['p5.48xlarge'], maxWorkers: 1 });
    const nine = sizeWorker({ instanceTypes: ['p5.48xlarge'], maxWorkers: 9 });

    // Assess
    expect(one.maxvCpus).toBe(192);
    expect(nine.maxvCpus).toBe(384);
  });

  it('sizes a mixed fleet by its smallest share per GPU, so a job fits every type', () => {
    // Act
    const sizing = sizeWorker({ instanceTypes: ['p5.48xlarge', 'p5.4xlarge'], maxWorkers: 8 });

    // Assess
    expect(sizing.vcpus).toBe(16);
    expect(sizing.workersPerInstance).toBe(1);
  });

  it('refuses a shared memory size that would starve the worker', () => {
    // Act
    const size = () =>
      sizeWorker({ instanceTypes: ['p5.48xlarge'], maxWorkers: 8, sharedMemoryMiB: 200 * MIB_PER_GIB });

    // Assess
    expect(size).toThrow(SizingError);
    expect(size).toThrow(/sharedMemoryMiB 204800 does not fit/);
  });

  it('refuses an empty list of instance types', () => {
    expect(() => sizeWorker({ instanceTypes: [], maxWorkers: 1 })).toThrow(/instanceTypes is empty/);
  });
});
