import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorkerLog } from '../../gpu-container/worker/worker-logger.js';

/** The JSON lines the logger wrote, to stdout or (warnings and errors) to stderr, while `act` ran. */
function linesWrittenBy(act: () => void): Record<string, unknown>[] {
  const written: string[] = [];
  const keep = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(keep),
    vi.spyOn(process.stderr, 'write').mockImplementation(keep),
  ];
  try {
    act();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the worker log', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('writes one JSON object per line, with request_id on every line while a request runs and none after', () => {
    // Prepare
    process.env.POWERTOOLS_DEV = 'false';
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const log = createWorkerLog('heritage-worker');

    // Act
    const lines = linesWrittenBy(() => {
      log.info('worker started');
      log.setRequestId('req-7');
      log.info('ComfyUI output', { stream: 'stderr', text: 'got prompt' });
      log.warn('status heartbeat failed');
      log.setRequestId(undefined);
      log.info('idle');
    });

    // Assess
    expect(lines.map((line) => [line.message, line.request_id, line.service])).toEqual([
      ['worker started', undefined, 'heritage-worker'],
      ['ComfyUI output', 'req-7', 'heritage-worker'],
      ['status heartbeat failed', 'req-7', 'heritage-worker'],
      ['idle', undefined, 'heritage-worker'],
    ]);
    expect(lines[1]).toMatchObject({ level: 'INFO', stream: 'stderr', text: 'got prompt' });
  });

  it('keeps a request-scoped log on its own id while the shared one moves to the next request', () => {
    // Prepare
    process.env.POWERTOOLS_DEV = 'false';
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const log = createWorkerLog('heritage-worker');

    // Act
    const lines = linesWrittenBy(() => {
      log.setRequestId('req-1');
      const first = log.forRequest('req-1');
      log.setRequestId(undefined);
      log.setRequestId('req-2');
      first.info('uploading frames');
      log.info('ComfyUI output');
      log.forRequest('req-2').warn('status heartbeat failed');
      log.setRequestId(undefined);
      first.info('request succeeded');
      log.info('idle');
    });

    // Assess
    expect(lines.map((line) => [line.message, line.request_id, line.service])).toEqual([
      ['uploading frames', 'req-1', 'heritage-worker'],
      ['ComfyUI output', 'req-2', 'heritage-worker'],
      ['status heartbeat failed', 'req-2', 'heritage-worker'],
      ['request succeeded', 'req-1', 'heritage-worker'],
      ['idle', undefined, 'heritage-worker'],
    ]);
  });
});
