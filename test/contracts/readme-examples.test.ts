/**
 * The README's examples are part of the contract: each one must parse as what it claims to be, and the
 * rejected event is the one dispatch really publishes for the README's rejected manifest.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../contracts/errors.js';
import { CompletionEventSchema } from '../../contracts/event.js';
import { parseManifest } from '../../contracts/manifest.js';
import { processIntake } from '../../functions/dispatch/process-intake.js';
import { fakeBatch } from '../../local/testkit/batch-fake.js';
import { putImages, putManifest } from '../../local/testkit/requests.js';
import { startEmulator } from '../support/emulator.js';
import { intakeDeps } from '../support/function-deps.js';
import { intakeRecord, sqsEvent } from '../support/intake-events.js';

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

  it('lists every error code there is', () => {
    // Prepare
    const list = readme.slice(readme.indexOf('Error codes (stable):'));
    const listed = list.slice(0, list.indexOf('\n\n'));

    // Assess
    expect(ERROR_CODES.filter((code) => !listed.includes(`\`${code}\``))).toEqual([]);
  });

  it('shows a valid succeeded event', () => {
    expect(() => CompletionEventSchema.parse(JSON.parse(example('event-succeeded')))).not.toThrow();
  });

  it('shows the rejected event dispatch publishes for the rejected manifest it shows', async () => {
    // Prepare
    const emulator = await startEmulator();
    const events = emulator.listen();
    const batch = fakeBatch();
    const manifest = JSON.parse(example('manifest-rejected')) as Record<string, unknown>;
    const shown = JSON.parse(example('event-rejected')) as { request_id: string };
    await putImages(emulator.objects, shown.request_id);
    const key = await putManifest(emulator.objects, shown.request_id, manifest);

    // Act
    await processIntake(intakeDeps(emulator, batch), sqsEvent(intakeRecord(key)));
    const published = await events.drain();
    batch.mock.restore();
    await emulator.stop();

    // Assess
    expect(published).toHaveLength(1);
    expect(shown, 'README "event-rejected" is not what dispatch publishes').toEqual(published[0]);
  });
});
