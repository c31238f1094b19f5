/** The README's examples are part of the contract: each one must parse as what it claims to be. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CompletionEventSchema } from '../../contracts/event.js';
import { parseManifest } from '../../contracts/manifest.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function example(name: string): string {
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match?.[1] === undefined) throw new Error(`README has no example named ${name}`);
  return match[1];
}

describe('README examples', () => {
  it('shows a manifest that parses', () => {
    expect(parseManifest(example('manifest')).manifest.client_reference).toBe('order-1234');
  });

  it('shows a legacy body whose shape parses up to its elided images', () => {
    const body = JSON.parse(example('legacy')) as { input: Record<string, unknown> };
    expect(() => parseManifest(JSON.stringify(body))).toThrow(/base64|IMAGE|image/i);
    const { start_image_base64: _s, end_image_base64: _e, ...fields } = body.input;
    expect(parseManifest(JSON.stringify(fields)).manifest.seed).toBe(42);
  });

  it.each(['event-succeeded', 'event-rejected'])('shows a valid %s', (name) => {
    expect(() => CompletionEventSchema.parse(JSON.parse(example(name)))).not.toThrow();
  });
});
