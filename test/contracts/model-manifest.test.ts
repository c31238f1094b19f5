import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelManifestSchema, modelPath } from '../../contracts/model-manifest.js';

const manifestJson = (): unknown => JSON.parse(readFileSync('gpu-container/models.json', 'utf8'));
const provenPrompt = JSON.parse(readFileSync('gpu-container/smoke/reference-prompt.json', 'utf8')) as Record<
  string,
  { class_type: string; inputs: Record<string, unknown> }
>;

function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'model.safetensors',
    folder: 'diffusion_models',
    url: 'https://example.com/model.safetensors',
    revision: null,
    sha256: 'a'.repeat(64),
    bytes: 1,
    ...overrides,
  };
}

describe('model manifest', () => {
  it('accepts gpu-container/models.json', () => {
    const result = ModelManifestSchema.safeParse(manifestJson());

    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('lists every model file the proven default workflow loads', () => {
    const manifest = ModelManifestSchema.parse(manifestJson());
    const loaded = Object.values(provenPrompt).flatMap((node) =>
      ['unet_name', 'lora_name', 'clip_name', 'vae_name', 'ckpt_name']
        .map((key) => node.inputs[key])
        .filter((value): value is string => typeof value === 'string'),
    );

    const names = manifest.models.map((model) => model.name);

    expect(loaded.length).toBe(7);
    expect(names.toSorted()).toEqual(loaded.toSorted());
  });

  it('pins every model of gpu-container/models.json by sha256 and size', () => {
    const manifest = ModelManifestSchema.parse(manifestJson());

    expect(manifest.models.filter((model) => model.sha256 === null || model.bytes === null)).toEqual([]);
  });

  it('fetches every Hugging Face model at a fixed revision, except those docs/architecture.md names', () => {
    const manifest = ModelManifestSchema.parse(manifestJson());
    const architecture = readFileSync('docs/architecture.md', 'utf8');

    const unpinned = manifest.models.filter((model) => /\/resolve\/main\//.test(model.url));

    expect(unpinned.length).toBeLessThan(manifest.models.length);
    for (const model of unpinned) {
      expect(model.revision).toBeNull();
      expect(architecture).toContain(`\`${model.name}\``);
    }
  });

  it('refuses a model whose url does not fetch the revision it names', () => {
    const result = ModelManifestSchema.safeParse({
      version: 1,
      models: [
        entry({ url: 'https://huggingface.co/o/r/resolve/main/m.safetensors', revision: 'b'.repeat(40) }),
      ],
    });

    expect(result.error?.issues[0]?.path).toEqual(['models', 0, 'url']);
  });

  it('refuses a pickle checkpoint without a pinned sha256 instead of trusting it on first use', () => {
    const pickle = ModelManifestSchema.safeParse({
      version: 1,
      models: [entry({ name: 'rife47.pth', folder: 'rife', sha256: null })],
    });
    const safetensors = ModelManifestSchema.safeParse({ version: 1, models: [entry({ sha256: null })] });

    expect(pickle.error?.issues[0]?.path).toEqual(['models', 0, 'sha256']);
    expect(safetensors.success).toBe(true);
  });

  it('accepts an unknown checksum and size as null, to be filled in by models sync', () => {
    const result = ModelManifestSchema.safeParse({
      version: 1,
      models: [entry({ sha256: null, bytes: null })],
    });

    expect(result.success).toBe(true);
  });

  it('rejects a checksum that is not lower-case hex sha256', () => {
    const result = ModelManifestSchema.safeParse({ version: 1, models: [entry({ sha256: 'ABC' })] });

    expect(result.error?.issues[0]?.path).toEqual(['models', 0, 'sha256']);
  });

  it('rejects a file name that could leave its folder', () => {
    const result = ModelManifestSchema.safeParse({
      version: 1,
      models: [entry({ name: '../x.safetensors' })],
    });

    expect(result.success).toBe(false);
  });

  it('rejects a plain-http source', () => {
    const result = ModelManifestSchema.safeParse({
      version: 1,
      models: [entry({ url: 'http://example.com/m' })],
    });

    expect(result.error?.issues[0]?.path).toEqual(['models', 0, 'url']);
  });

  it('rejects the same file listed twice', () => {
    const result = ModelManifestSchema.safeParse({ version: 1, models: [entry(), entry()] });

    expect(result.error?.issues[0]?.message).toBe('diffusion_models/model.safetensors is listed twice');
  });

  it('places a model under its folder in the model root', () => {
    expect(modelPath({ folder: 'rife', name: 'rife47.pth' })).toBe('rife/rife47.pth');
  });
});
