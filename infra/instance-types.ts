/**
 * What Heritage needs to know about each supported GPU instance type, from the EC2 instance type
 * specifications. Memory is the nominal instance memory; `sizeWorker` subtracts a reserve.
 */
export interface GpuInstanceType {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly gpus: number;
  readonly gpuModel: string;
  /** Local NVMe instance-store disks, RAIDed into the model cache. */
  readonly nvmeDisks: number;
}

export const GPU_INSTANCE_TYPES = {
  'p5.48xlarge': {
    name: 'p5.48xlarge',
    vcpus: 192,
    memoryGiB: 2048,
    gpus: 8,
    gpuModel: 'H100',
    nvmeDisks: 8,
  },
  'p5.4xlarge': { name: 'p5.4xlarge', vcpus: 16, memoryGiB: 256, gpus: 1, gpuModel: 'H100', nvmeDisks: 1 },
  'p5e.48xlarge': {
    name: 'p5e.48xlarge',
    vcpus: 192,
    memoryGiB: 2048,
    gpus: 8,
    gpuModel: 'H200',
    nvmeDisks: 8,
  },
  'p5en.48xlarge': {
    name: 'p5en.48xlarge',
    vcpus: 192,
    memoryGiB: 2048,
    gpus: 8,
    gpuModel: 'H200',
    nvmeDisks: 8,
  },
} as const satisfies Record<string, GpuInstanceType>;

export type GpuInstanceTypeName = keyof typeof GPU_INSTANCE_TYPES;
export const GPU_INSTANCE_TYPE_NAMES = Object.keys(GPU_INSTANCE_TYPES) as [
  GpuInstanceTypeName,
  ...GpuInstanceTypeName[],
];
