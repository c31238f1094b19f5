import { describe, expect, it } from 'vitest';
import { planParts } from '../../gpu-container/worker/provision/ranged-download.js';

const MiB = 1024 * 1024;

describe('planParts', () => {
  it('reads a 1 GiB file as 64 parts of 16 MiB over 32 connections', () => {
    expect(planParts(1024 * MiB, {}, 16)).toEqual({
      partSize: 16 * MiB,
      concurrency: 32,
      parts: 64,
      threads: 4,
    });
  });

  it('reads a 14 GB expert in 64 MiB parts over 32 connections', () => {
    const size = 14_300_000_000;
    expect(planParts(size, {}, 192)).toEqual({
      partSize: 64 * MiB,
      concurrency: 32,
      parts: Math.ceil(size / (64 * MiB)),
      threads: 4,
    });
  });

  it('reads a file smaller than one part with one request', () => {
    expect(planParts(300 * 1024, {}, 16)).toEqual({
      partSize: 16 * MiB,
      concurrency: 1,
      parts: 1,
      threads: 1,
    });
  });

  it('keeps to the part size and concurrency it is given', () => {
    expect(planParts(1024 * 1024, { partSize: 64 * 1024, concurrency: 8, threads: 3 }, 2)).toEqual({
      partSize: 64 * 1024,
      concurrency: 8,
      parts: 16,
      threads: 3,
    });
  });

  it('gives a quarter of the cores to download threads, at most 4, and keeps 2-7 cores on one thread', () => {
    const threadsOn = (cores: number) => planParts(1024 * MiB, {}, cores).threads;
    expect([2, 7, 8, 12, 16, 192].map(threadsOn)).toEqual([1, 1, 2, 3, 4, 4]);
  });

  it('starts no more threads than there are connections', () => {
    expect(planParts(1024 * 1024, { partSize: 512 * 1024, threads: 8 }, 64).threads).toBe(2);
  });
});
