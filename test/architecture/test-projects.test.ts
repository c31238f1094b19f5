/**
 * Every test file runs in exactly one vitest project, fast or slow, so that none silently stops running:
 * asked of vitest itself (`vitest list`), against the test files on disk. And the fast project stays
 * fast: none of its files synthesizes the CDK app.
 */
import { readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_TEST_FILES } from '../../vitest.config.js';
import { NODE, REPO_ROOT, runProcess } from '../support/cli.js';
import { importGraph } from '../support/import-graph.js';

const VITEST = 'node_modules/vitest/vitest.mjs';

async function testFilesOnDisk(): Promise<string[]> {
  const entries = await readdir('test', { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => `${entry.parentPath}/${entry.name}`)
    .sort();
}

/** The files each project runs, as vitest resolves its configuration. */
async function filesByProject(): Promise<Map<string, string[]>> {
  const run = await runProcess(NODE, [VITEST, 'list', '--filesOnly', '--json'], { timeoutMs: 60_000 });
  expect(run.code, run.stderr).toBe(0);
  const listed = JSON.parse(run.stdout) as { file: string; projectName: string }[];
  const byProject = new Map<string, string[]>();
  for (const { file, projectName } of listed) {
    byProject.set(projectName, [...(byProject.get(projectName) ?? []), relative(REPO_ROOT, file)]);
  }
  return byProject;
}

describe('test projects', () => {
  it('runs every test file in exactly one project, fast or slow', async () => {
    const byProject = await filesByProject();
    const onDisk = await testFilesOnDisk();

    expect([...byProject.keys()].sort()).toEqual(['fast', 'slow']);
    const listed = [...byProject.values()].flat().sort();
    expect(listed).toEqual(onDisk);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('names only test files that exist in the slow list', async () => {
    const onDisk = await testFilesOnDisk();

    expect(SLOW_TEST_FILES.filter((file) => !onDisk.includes(file))).toEqual([]);
  });

  it('synthesizes the CDK app in no file of the fast project', async () => {
    const fast = (await filesByProject()).get('fast') ?? [];
    const graph = await importGraph(fast);

    const reaches = (from: string): boolean => {
      const seen = new Set<string>();
      const stack = [from];
      while (stack.length > 0) {
        const file = stack.pop() ?? '';
        if (file === 'infra/stack.ts') return true;
        if (seen.has(file)) continue;
        seen.add(file);
        stack.push(...(graph.edges[file] ?? []));
      }
      return false;
    };
    expect(fast.filter(reaches)).toEqual([]);
  });
});
