import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_UID } from '../../infra/constructs/imds-guard-user-data.js';
import { WORKER_IMAGE_EXCLUDE, WORKER_IMAGE_INCLUDE } from '../../infra/constructs/worker-fleet.js';

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): { keyword: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

function argDefaults(parsed: { keyword: string; args: string }[]): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const { keyword, args } of parsed) {
    const match = keyword === 'ARG' ? /^(\w+)=(\S+)$/.exec(args) : null;
    if (match?.[1] && match[2]) defaults.set(match[1], match[2]);
  }
  return defaults;
}

const expand = (value: string, defaults: Map<string, string>): string =>
  value.replace(/\$\{(\w+)\}/g, (_, name: string) => defaults.get(name) ?? `\${${name}}`);

const dockerfile = readFileSync('gpu-container/Dockerfile', 'utf8');
const parsed = instructions(dockerfile);
const defaults = argDefaults(parsed);
const runs = parsed.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const env = parsed
  .filter((i) => i.keyword === 'ENV')
  .map((i) => i.args)
  .join(' ');

/** The first stage an image name is built FROM, with its stage aliases removed. */
function baseImages(): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const { args } of parsed.filter((i) => i.keyword === 'FROM')) {
    const [image = '', , alias] = expand(args, defaults).split(/\s+/);
    if (!stages.has(image)) images.push(image);
    if (alias) stages.add(alias);
  }
  return images;
}

describe('gpu-container/Dockerfile', () => {
  it('builds every stage from one Debian base, pinned by digest, and never from latest', () => {
    expect(baseImages()).toEqual([defaults.get('BASE_IMAGE')]);
    expect(defaults.get('BASE_IMAGE')).toMatch(/^debian:trixie-slim@sha256:[0-9a-f]{64}$/);
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  it('takes build arguments for where the base and the sources come from, and nothing else', () => {
    const args = parsed.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0]);
    const commits = args.filter((name) => name?.endsWith('_COMMIT'));

    // A commit is part of the recipe, not a build-time choice: each stage re-declares it, with no value.
    expect(new Set(args.filter((name) => !name?.endsWith('_COMMIT')))).toEqual(
      new Set(['BASE_IMAGE', 'SOURCES']),
    );
    expect(new Set(commits)).toEqual(
      new Set(['COMFYUI_COMMIT', 'FRAME_INTERPOLATION_COMMIT', 'SAGEATTENTION_COMMIT']),
    );
    expect(defaults.get('SOURCES')).toBe('https://github.com');
  });

  it('fetches ComfyUI, the frame-interpolation pack and SageAttention at exact commits', () => {
    const fetches = runs.filter((run) => run.includes('fetch-source.sh'));

    for (const name of ['COMFYUI_COMMIT', 'FRAME_INTERPOLATION_COMMIT', 'SAGEATTENTION_COMMIT']) {
      expect(defaults.get(name)).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(
      fetches.map((run) =>
        /"\$\{SOURCES\}\/([\w.-]+\/[\w.-]+)\.git" "\$\{(\w+_COMMIT)\}"/.exec(run)?.slice(1),
      ),
    ).toEqual([
      ['Comfy-Org/ComfyUI', 'COMFYUI_COMMIT'],
      ['Fannovel16/ComfyUI-Frame-Interpolation', 'FRAME_INTERPOLATION_COMMIT'],
      ['thu-ml/SageAttention', 'SAGEATTENTION_COMMIT'],
    ]);
    expect(runs.filter((run) => /\bgit\b.*\bclone\b/.test(run))).toEqual([]);
  });

  it('removes the frame-interpolation pack downloader and checks the lock still matches the sources', () => {
    expect(
      runs.some((run) => /seal-frame-interpolation\.py \S+ComfyUI-Frame-Interpolation \/models\b/.test(run)),
    ).toBe(true);
    expect(
      runs.some((run) =>
        run.includes('cmp /opt/comfyui/requirements.txt /tmp/locked/comfyui-requirements.txt'),
      ),
    ).toBe(true);
  });

  it('installs Python packages from the hashed lock alone, never resolving anything', () => {
    const pipInstalls = runs
      .flatMap((run) => run.split('&&').map((c) => c.trim()))
      .filter((c) => /pip install/.test(c));

    expect(pipInstalls.length).toBeGreaterThan(0);
    for (const install of pipInstalls) {
      const fromLock = /--require-hashes --no-deps --only-binary :all: -r \/tmp\/python\/[\w-]+\.lock$/.test(
        install,
      );
      const localWheel = /--no-deps \/tmp\/wheels\/sageattention-\*\.whl$/.test(install);
      expect(fromLock || localWheel, install).toBe(true);
    }
  });

  it('installs Node and sharp from the runtime lockfile with npm ci', () => {
    expect(runs).toContain(
      'cd /opt/heritage/worker && npm ci --omit=dev --ignore-scripts --no-audit --no-fund',
    );
    expect(runs.filter((run) => /npm install\b/.test(run))).toEqual([]);
  });

  it('builds SageAttention for Hopper and has the worker select it', () => {
    const build = runs.find((run) => run.includes('pip wheel --no-build-isolation'));

    expect(build).toContain('TORCH_CUDA_ARCH_LIST=9.0');
    expect(env).toMatch(/COMFYUI_ATTENTION=sage\b/);
  });

  it('asks the NVIDIA runtime for compute and fetches nothing at run time', () => {
    expect(env).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility\b/);
    expect(env).toMatch(/HF_HUB_OFFLINE=1\b/);
    expect(env).toMatch(/TRANSFORMERS_OFFLINE=1\b/);
  });

  it('runs the worker as a non-root user under tini, with a health check', () => {
    const users = parsed.filter((i) => i.keyword === 'USER').map((i) => i.args);

    expect(users.at(-1)).toBe('heritage');
    expect(parsed.find((i) => i.keyword === 'ENTRYPOINT')?.args).toMatch(/^\["\/usr\/bin\/tini", "--"/);
    expect(parsed.find((i) => i.keyword === 'CMD')?.args).toContain('/opt/heritage/worker/main.mjs');
    expect(parsed.find((i) => i.keyword === 'HEALTHCHECK')?.args).toContain(
      '/opt/heritage/worker/health-check.mjs',
    );
  });

  it('runs as the uid the job definition pins, with no set-user-ID program left to become root with', () => {
    // Act
    const uid = /useradd --uid (\d+)\b.* heritage\b/.exec(runs.join('\n'))?.[1];
    const strip = runs.findIndex((run) => run.startsWith('find / -xdev -perm /6000 -type f -exec chmod a-s'));
    const lastInstall = runs.findLastIndex((run) => /apt-get install|pip install|useradd/.test(run));

    // Assess
    expect(uid).toBe(String(WORKER_UID));
    expect(strip).toBeGreaterThan(lastInstall);
  });

  it('bakes in no model weights and no secrets', () => {
    const copies = parsed.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD').map((i) => i.args);
    const vars = parsed.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG').map((i) => i.args);

    expect(copies.filter((c) => /\.(safetensors|pth|ckpt|bin|gguf)\b/.test(c))).toEqual([]);
    expect(parsed.filter((i) => i.keyword === 'ADD')).toEqual([]);
    expect(vars.filter((e) => /SECRET|TOKEN|PASSWORD|ACCESS_KEY/i.test(e))).toEqual([]);
  });

  it('copies only what the build context sends, and .dockerignore sends what cdk deploy sends', () => {
    const sources = parsed
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const dockerignore = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));

    for (const source of sources) {
      expect(
        WORKER_IMAGE_INCLUDE.some((root) => source === root || source.startsWith(`${root}/`)),
        source,
      ).toBe(true);
    }
    expect(dockerignore).toEqual(WORKER_IMAGE_EXCLUDE);
  });
});
