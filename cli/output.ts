/**
 * What a command prints. Human mode writes lines to stdout. With --json, stdout carries exactly one JSON
 * document, the same envelope for every command, success or failure, and every human line goes to
 * stderr, so scripts can pipe stdout (README "The `heritage` command").
 */
import type { ErrorInfo } from '../contracts/errors.js';

/** The one --json document: `result` is the command's own (null when it has none), `error` null on success. */
export interface Envelope {
  ok: boolean;
  exit_code: number;
  command: string | null;
  result: unknown;
  error: ErrorInfo | { code: null; message: string } | null;
}

export function writeEnvelope(envelope: Envelope): void {
  process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
}

export interface Output {
  readonly json: boolean;
  /** A line for people. */
  line(text: string): void;
  /** The command's result: `human` lines in human mode, `value` in the envelope with --json. */
  result(value: unknown, human: string[]): void;
  /** The command's --help text. */
  help(usage: string): void;
}

export function createOutput(json: boolean, command: string): Output {
  const envelope = (result: unknown) =>
    writeEnvelope({ ok: true, exit_code: 0, command, result, error: null });
  return {
    json,
    line(text) {
      (json ? process.stderr : process.stdout).write(`${text}\n`);
    },
    result(value, human) {
      if (json) envelope(value);
      else for (const text of human) process.stdout.write(`${text}\n`);
    },
    help(usage) {
      if (json) envelope({ usage });
      else process.stdout.write(`${usage}\n`);
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
