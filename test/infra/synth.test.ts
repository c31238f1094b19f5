/**
 * The deployment path end to end: the real `cdk synth` (esbuild bundling included) with no AWS
 * credentials and no Docker, then cfn-lint over the templates of several configurations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_IMAGE_INCLUDE } from '../../infra/constructs/worker-fleet.js';
import { lintedConfigurations, REPOSITORY_ROOT, synthesizeTemplate } from './support/heritage-app.js';
import { temporaryOutdir } from './support/nag-findings.js';

const CFN_LINT_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2'];

function cfnLintAvailable(): boolean {
  return spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Without AWS credentials, profile or config, and with a Docker that cannot exist. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    CDK_DOCKER: '/nonexistent/docker',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

describe('cdk synth', () => {
  const outdirs: string[] = [];
  let cliOutdir: string;
  let synth: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    cliOutdir = temporaryOutdir();
    outdirs.push(cliOutdir);
    synth = spawnSync(
      path.join(REPOSITORY_ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--no-notices', '--output', cliOutdir],
      { cwd: REPOSITORY_ROOT, env: offlineEnv(), encoding: 'utf8', timeout: 240_000 },
    );
  }, 250_000);

  afterAll(() => {
    for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
  });

  it('synthesizes with the CDK CLI offline: no credentials, no Docker', () => {
    // Assess
    expect(synth.status, `${synth.stderr}`).toBe(0);
    expect(existsSync(path.join(cliOutdir, 'Heritage.template.json'))).toBe(true);
  });

  it('bundles each Lambda as ESM with a source map, by the local esbuild', () => {
    // Act
    const assets = readdirSync(cliOutdir)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => readdirSync(path.join(cliOutdir, name)))
      .filter((files) => files.includes('index.mjs'));

    // Assess
    expect(assets).toHaveLength(3);
    for (const files of assets) expect(files).toContain('index.mjs.map');
  });

  it('builds the worker image from gpu-container/Dockerfile with only what the image needs in its context', () => {
    // Act
    const manifest = JSON.parse(readFileSync(path.join(cliOutdir, 'Heritage.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string } }>;
    };
    const [image, ...others] = Object.values(manifest.dockerImages);
    const context = readdirSync(path.join(cliOutdir, image?.source.directory ?? 'missing'));

    // Assess
    expect(others).toEqual([]);
    expect(image?.source).toMatchObject({ dockerFile: 'gpu-container/Dockerfile', platform: 'linux/amd64' });
    expect(context).toContain('gpu-container');
    expect(context).toContain('contracts');
    // .dockerignore travels with the context: docker build reads it there.
    expect(context.filter((entry) => !WORKER_IMAGE_INCLUDE.includes(entry))).toEqual(['.dockerignore']);
  });

  it.runIf(cfnLintAvailable() || process.env.CI)(
    'passes cfn-lint with zero errors for the default, Spot, p5.4xlarge and bring-your-own configurations',
    () => {
      // Prepare
      const templates = [path.join(cliOutdir, 'Heritage.template.json')];
      for (const [context, env] of lintedConfigurations()) {
        const outdir = temporaryOutdir();
        outdirs.push(outdir);
        templates.push(synthesizeTemplate(context, env, outdir));
      }
      expect(cfnLintAvailable(), 'cfn-lint is not installed; .ci/run installs it').toBe(true);

      // Act
      const run = spawnSync(
        'cfn-lint',
        [
          '--format',
          'json',
          '--non-zero-exit-code',
          'none',
          '--regions',
          ...CFN_LINT_REGIONS,
          '--',
          ...templates,
        ],
        { encoding: 'utf8' },
      );
      const findings = JSON.parse(run.stdout || '[]') as {
        Level: string;
        Rule: { Id: string };
        Message: string;
      }[];

      // Assess
      expect(run.status, run.stderr).toBe(0);
      expect(findings.filter((finding) => finding.Level === 'Error')).toEqual([]);
      for (const template of templates)
        expect(readFileSync(template, 'utf8')).toContain('AWS::Batch::JobDefinition');
    },
  );
});
