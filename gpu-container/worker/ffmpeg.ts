/** Runs ffmpeg as a child process: the binary from FFMPEG_PATH (the container's apt ffmpeg) or from npm. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export interface FfmpegRunOptions {
  signal?: AbortSignal;
  /** Called with each `key=value` line of `-progress pipe:1`. */
  onProgress?: (key: string, value: string) => void;
}

export class FfmpegFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
    this.name = 'FfmpegFailed';
  }
}

const STDERR_TAIL_CHARS = 4000;

/**
 * The ffmpeg binary to use: an explicit path wins, then the one @ffmpeg-installer ships, then `ffmpeg`
 * on PATH (a bundled worker in an image without node_modules, where the system ffmpeg is installed).
 */
export function resolveFfmpegPath(configured?: string): string {
  if (configured !== undefined && configured !== '') return configured;
  try {
    const require = createRequire(import.meta.url);
    return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    return 'ffmpeg';
  }
}

/** Resolves when ffmpeg exits 0; rejects with FfmpegFailed (stderr tail attached) otherwise. */
export function runFfmpeg(ffmpegPath: string, args: string[], options: FfmpegRunOptions = {}): Promise<void> {
  const { signal, onProgress } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const progressArgs = onProgress === undefined ? [] : ['-progress', 'pipe:1', '-nostats'];
    const child = spawn(
      ffmpegPath,
      ['-hide_banner', '-nostdin', '-loglevel', 'error', ...progressArgs, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (onProgress === undefined) return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const at = line.indexOf('=');
        if (at > 0) onProgress(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
    });
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new FfmpegFailed(`ffmpeg could not start: ${error.message}`, null, stderr));
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(signal.reason);
      else if (code === 0) resolve();
      else reject(new FfmpegFailed(`ffmpeg exited with code ${code}: ${stderr.trim()}`, code, stderr));
    });
  });
}
