/** Runs the real `heritage` entry point (cli/bin.mjs) as a child process, as a user would. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_BIN = fileURLToPath(new URL('../../cli/bin.mjs', import.meta.url));
const PINNED_NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
/** The Node that `npm ci` installs (22), whichever Node runs the tests. */
export const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; nodeOptions?: string[] } = {},
): Promise<CliRun> {
  return runProcess(NODE, [...(options.nodeOptions ?? []), CLI_BIN, ...args], {
    ...options,
    env: { AWS_ENDPOINT_URL: '', HERITAGE_ENDPOINT: '', ...options.env },
  });
}

/** Runs `command` to its end and collects its output; `env` is added to this process's environment. */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
