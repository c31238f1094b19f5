/** The README's Deploy section is part of the infra contract: it must name what the code accepts. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TERMINAL_STATES } from '../../contracts/lifecycle/status.js';
import { CONFIG_KEYS } from '../../infra/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const deploy = readme.slice(readme.indexOf('## Deploy'), readme.indexOf('## Troubleshooting'));

describe('README Deploy section', () => {
  it('documents every configuration key the app reads, except the sizing override', () => {
    // Act
    const missing = CONFIG_KEYS.filter(
      (key) => key !== 'sharedMemoryMiB' && key !== 'workMaxReceiveCount',
    ).filter((key) => !deploy.includes(`| \`${key}\``));

    // Assess
    expect(missing).toEqual([]);
  });

  it('shows an SNS filter policy on the message attributes the topic really carries', () => {
    // Prepare
    const match = /<!-- example: filter-policy -->\s*```json\n([\s\S]*?)```/.exec(deploy);

    // Act
    const policy = JSON.parse(match?.[1] ?? 'null') as Record<string, string[]>;

    // Assess
    expect(Object.keys(policy)).toEqual(['status']);
    for (const status of policy.status ?? []) expect(TERMINAL_STATES).toContain(status);
  });

  it('names the vCPU quota one p5.48xlarge needs and dates its prices', () => {
    // Assess
    expect(deploy).toContain('192 vCPUs for one p5.48xlarge');
    expect(deploy).toMatch(/as of mid-2025/);
  });
});
