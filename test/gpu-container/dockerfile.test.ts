import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

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

describe('gpu-container/Dockerfile', () => {
  it('pins every base image by digest and never uses latest', () => {
    const stages = new Set<string>();
    const images: string[] = [];
    for (const { args } of parsed.filter((i) => i.keyword === 'FROM')) {
      const [image = '', , alias] = expand(args, defaults).split(/\s+/);
      if (!stages.has(image)) images.push(image);
      if (alias) stages.add(alias);
    }

    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
      expect(image).not.toMatch(/:latest\b/);
    }
    expect(dockerfile).not.toMatch(/:latest\b/);
  });

  it('uses a CUDA 12.x base', () => {
    expect(defaults.get('CUDA_BASE')).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-/);
  });

  it('fetches ComfyUI and the frame-interpolation pack at exact commits and checks them', () => {
    const gitCommands = runs
      .flatMap((run) => run.split('&&').map((c) => c.trim()))
      .filter((c) => /\bgit\b/.test(c));
    const fetches = gitCommands.filter((c) => /\bgit\b.*\bfetch\b/.test(c));

    expect(defaults.get('COMFYUI_COMMIT')).toMatch(/^[0-9a-f]{40}$/);
    expect(defaults.get('FRAME_INTERPOLATION_COMMIT')).toMatch(/^[0-9a-f]{40}$/);
    expect(defaults.get('SAGEATTENTION_COMMIT')).toMatch(/^[0-9a-f]{40}$/);
    expect(fetches.map((c) => /"\$\{(\w+_COMMIT)\}"$/.exec(c)?.[1])).toEqual([
      'COMFYUI_COMMIT',
      'FRAME_INTERPOLATION_COMMIT',
      'SAGEATTENTION_COMMIT',
    ]);
    expect(gitCommands.filter((c) => /\bgit\b.*\bclone\b/.test(c))).toEqual([]);
    expect(runs.filter((run) => /rev-parse HEAD\)" = "\$\{\w+_COMMIT\}"/.test(run))).toHaveLength(3);
  });

  it('pins PyTorch so the requirements files cannot move it', () => {
    const torch = runs.find((run) => /pip install torch==/.test(run));

    expect(torch).toMatch(/torch==\d+\.\d+\.\d+ torchvision==\d+\.\d+\.\d+ torchaudio==\d+\.\d+\.\d+/);
    expect(runs.indexOf(torch ?? '')).toBeLessThan(
      runs.findIndex((run) => run.includes('-r /tmp/req/comfyui.txt')),
    );
  });

  it('builds SageAttention for Hopper and has the worker select it', () => {
    const build = runs.find((run) => run.includes('pip wheel --no-build-isolation'));
    const env = parsed
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');

    expect(build).toContain('TORCH_CUDA_ARCH_LIST=9.0');
    expect(runs.some((run) => /pip install .*\/tmp\/wheels\/sageattention-\*\.whl/.test(run))).toBe(true);
    expect(env).toMatch(/COMFYUI_ATTENTION=sage\b/);
    expect(env).toContain('--use-sage-attention');
  });

  it('runs the worker as a non-root user under tini, with a health check', () => {
    const users = parsed.filter((i) => i.keyword === 'USER').map((i) => i.args);

    expect(users.at(-1)).toBe('heritage');
    expect(parsed.find((i) => i.keyword === 'ENTRYPOINT')?.args).toMatch(/^\["\/usr\/bin\/tini", "--"/);
    expect(parsed.find((i) => i.keyword === 'CMD')?.args).toContain('/opt/heritage/worker/main.mjs');
    expect(parsed.some((i) => i.keyword === 'HEALTHCHECK')).toBe(true);
  });

  it('bakes in no model weights and no secrets', () => {
    const copies = parsed.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD').map((i) => i.args);
    const env = parsed.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG').map((i) => i.args);

    expect(copies.filter((c) => /\.(safetensors|pth|ckpt|bin|gguf)\b/.test(c))).toEqual([]);
    expect(parsed.filter((i) => i.keyword === 'ADD')).toEqual([]);
    expect(env.filter((e) => /SECRET|TOKEN|PASSWORD|ACCESS_KEY/i.test(e))).toEqual([]);
  });
});
