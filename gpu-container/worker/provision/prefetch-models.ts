/**
 * Reads the verified model files once, in parallel chunks, so that they sit in the page cache when
 * ComfyUI first loads them. Started right after provisioning and not awaited, it overlaps ComfyUI's
 * start (about 20 s of Python imports) with the disk reads its warm-up would otherwise wait for: on a
 * reused instance whose page cache is cold, the first load of the two 14 GB experts is the largest
 * step of the cold start (docs/benchmarks.md, "Managed start on the GPU"). The bytes are discarded.
 */
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024 * 1024;
const BUFFER = 8 * 1024 * 1024;

export interface PrefetchReport {
  bytes: number;
  ms: number;
}

/** Reads every file whole; at most `concurrency` chunks at once. Stops early when `signal` aborts. */
export async function prefetchModels(
  paths: readonly string[],
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<PrefetchReport> {
  const started = performance.now();
  const handles = await Promise.all(paths.map((path) => open(path, 'r')));
  try {
    const chunks: { file: number; start: number; end: number }[] = [];
    for (const [file, handle] of handles.entries()) {
      const { size } = await handle.stat();
      for (let start = 0; start < size; start += CHUNK)
        chunks.push({ file, start, end: Math.min(size, start + CHUNK) });
    }
    let next = 0;
    let bytes = 0;
    const reader = async (): Promise<void> => {
      const buffer = Buffer.allocUnsafe(BUFFER);
      for (let i = next++; i < chunks.length && options.signal?.aborted !== true; i = next++) {
        const chunk = chunks[i];
        const handle = chunk === undefined ? undefined : handles[chunk.file];
        if (chunk === undefined || handle === undefined) continue;
        for (let position = chunk.start; position < chunk.end; ) {
          const { bytesRead } = await handle.read(
            buffer,
            0,
            Math.min(BUFFER, chunk.end - position),
            position,
          );
          if (bytesRead === 0) break;
          position += bytesRead;
          bytes += bytesRead;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, reader));
    return { bytes, ms: performance.now() - started };
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}
