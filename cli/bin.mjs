#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that `heritage` works straight from a checkout. It checks the
// Node version first: run as `node cli/bin.mjs` with an older system Node, every command would otherwise
// fail deep inside (node:sqlite, which the local stack and its clients load, came in Node 22.5).
import { readFileSync } from 'node:fs';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const [needMajor = 0, needMinor = 0] = (/(\d+)\.(\d+)/.exec(engines.node) ?? []).slice(1).map(Number);
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  const args = process.argv.slice(2);
  const message =
    `heritage needs Node ${needMajor}.${needMinor} or later, this is Node ${process.versions.node}: run ` +
    `npx heritage ${args.join(' ')}`.trimEnd() +
    ', which uses the Node that npm ci installed';
  process.stderr.write(`${message}\n`);
  if (args.includes('--json')) {
    const error = { code: null, message };
    const envelope = { ok: false, exit_code: 4, command: null, result: null, error };
    process.stdout.write(`${JSON.stringify(envelope, null, 2)}\n`);
  }
  process.exit(4);
}
const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
