import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/** Every test file. Each belongs to exactly one project (test/architecture/test-projects.test.ts). */
export const TEST_FILES = 'test/**/*.test.ts';

/**
 * The slow project: `npm run test:fast` leaves these out, `npm test` runs them with the rest. Each is
 * here for a reason, measured on 2 cores (README, "Development"):
 */
export const SLOW_TEST_FILES = [
  // an outside tool: the AWS CLI, Docker
  'test/cli/aws-cli-client.test.ts',
  'test/gpu-container/container-smoke.test.ts',
  // synthesizes the CDK app (4-8 s a file), or runs cdk synth, cfn-lint or checkov on it (17-22 s)
  'test/infra/batch.test.ts',
  'test/infra/checkov.test.ts',
  'test/infra/functions.test.ts',
  'test/infra/iam.test.ts',
  'test/infra/messaging.test.ts',
  'test/infra/models-sync-target.test.ts',
  'test/infra/nag.test.ts',
  'test/infra/network-and-outputs.test.ts',
  'test/infra/observability.test.ts',
  'test/infra/resource-policies.test.ts',
  'test/infra/storage.test.ts',
  'test/infra/synth.test.ts',
  'test/observability/workers-stuck-runnable.test.ts',
  // the whole pipeline end to end, or the CLI as a process many times: 10 s of CPU a file or more
  'test/chaos/pipeline-chaos.test.ts',
  'test/chaos/overlap-chaos.test.ts',
  'test/cli/readme-walkthrough.test.ts',
  'test/cli/demo.test.ts',
  'test/cli/cli-arguments.test.ts',
  'test/cli/request-commands.test.ts',
  // starts download threads in every test (15 tests, 14 s of CPU)
  'test/provision/provision-models.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: [TEST_FILES],
          exclude: [...configDefaults.exclude, ...SLOW_TEST_FILES],
          // Every core: vitest leaves one free by default, which on 2 cores runs one file at a time.
          maxWorkers: availableParallelism(),
          // npm test runs the fast project first, then the slow one.
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'slow', include: SLOW_TEST_FILES, sequence: { groupOrder: 1 } } },
    ],
  },
});
