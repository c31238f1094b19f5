/**
 * What a command prints. Human mode writes lines to stdout. With --json, stdout carries exactly one JSON
 * document (the result, or the error) and every human line goes to stderr, so scripts can pipe stdout.
 */
export interface Output {
  readonly json: boolean;
  /** A line for people. */
  line(text: string): void;
  /** The command's result: `human` lines in human mode, `value` as one JSON document with --json. */
  result(value: unknown, human: string[]): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line(text) {
      (json ? process.stderr : process.stdout).write(`${text}\n`);
    },
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else for (const text of human) process.stdout.write(`${text}\n`);
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
