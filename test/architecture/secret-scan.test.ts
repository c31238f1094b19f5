/**
 * The repository's secret scan (`npm run lint:secrets`, secretlint's recommended rules): it finds a
 * planted credential, and it finds nothing in the repository.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(import.meta.dirname, '..', '..');
const SECRETLINT = path.join(ROOT, 'node_modules', '.bin', 'secretlint');

function scan(args: string[], cwd = ROOT) {
  return spawnSync(
    SECRETLINT,
    ['--secretlintrc', path.join(ROOT, '.secretlintrc.json'), '--maskSecrets', '--format', 'json', ...args],
    { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * A secret access key shaped like AWS's: 40 random base64 characters, made fresh on each run. The last
 * one is alphanumeric: the rule's pattern ends at a word boundary, so a key ending in "/" or "+" (about
 * 1 in 20 random keys) would slip past it and make this test flaky.
 */
function fakeSecretAccessKey(): string {
  const alphanumeric = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const alphabet = `${alphanumeric}/+`;
  const pick = (chars: string) => chars[Math.floor(Math.random() * chars.length)];
  return [...Array.from({ length: 39 }, () => pick(alphabet)), pick(alphanumeric)].join('');
}

describe('secret scan', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'heritage-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports an AWS secret access key planted in a file', () => {
    // Prepare
    const planted = path.join(dir, 'credentials.ini');
    writeFileSync(planted, `[default]\naws_secret_access_key = ${fakeSecretAccessKey()}\n`);

    // Act
    const run = scan([planted], dir);

    // Assess
    expect(run.status).toBe(1);
    const results = JSON.parse(run.stdout) as { messages: { ruleId: string }[] }[];
    expect(results.flatMap((file) => file.messages.map((message) => message.ruleId))).toContain(
      '@secretlint/secretlint-rule-aws',
    );
  });

  it('finds no secret in the repository', () => {
    // Act
    const run = scan(['--secretlintignore', '.gitignore', '**/*']);

    // Assess
    const results = JSON.parse(run.stdout) as { filePath: string; messages: unknown[] }[];
    expect(results.length).toBeGreaterThan(100);
    expect(results.filter((file) => file.messages.length > 0).map((file) => file.filePath)).toEqual([]);
    expect(run.status).toBe(0);
  });
});
