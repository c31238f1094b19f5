import { describe, expect, it } from 'vitest';
import { planParts } from '../../gpu-container/worker/provision/ranged-download.js';

const MiB = 1024 * 1024;

describe('planParts', () => {
  it('reads a 1 GiB file as 64 parts of 16 MiB over 32 connections', () => {
    expect(planParts(1024 * MiB)).toEqual({ partSize: 16 * MiB, concurrency: 32, parts: 64 });
  });

  it('reads a 14 GB expert in 64 MiB parts over 32 connections', () => {
    const size = 14_300_000_000;
    expect(planParts(size)).toEqual({
      partSize: 64 * MiB,
      concurrency: 32,
      parts: Math.ceil(size / (64 * MiB)),
    });
  });

  it('reads a file smaller than one part with one request', () => {
    expect(planParts(300 * 1024)).toEqual({ partSize: 16 * MiB, concurrency: 1, parts: 1 });
  });

  it('keeps to the part size and concurrency it is given', () => {
    expect(planParts(1024 * 1024, { partSize: 64 * 1024, concurrency: 8 })).toEqual({
      partSize: 64 * 1024,
      concurrency: 8,
      parts: 16,
    });
  });
});
