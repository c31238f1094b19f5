import { describe, expect, it } from 'vitest';
import { echoManifest } from '../../contracts/manifest-echo.js';

describe('what a rejected event echoes of a manifest', () => {
  it('echoes integers as sent, valid or not, defaults for what is left out, and nothing that is not an integer', () => {
    // Act
    const echo = echoManifest(
      JSON.stringify({
        frame_length: 66,
        steps: 'eight',
        seed: 77,
        resolution: 1.5,
        client_reference: 'c-1',
      }),
    );

    // Assess
    expect(echo).toEqual({
      client_reference: 'c-1',
      parameters: { frame_length: 66, seed: 77, interpolation: 2 },
    });
  });

  it('reads the legacy body from its input object', () => {
    // Act
    const echo = echoManifest(JSON.stringify({ input: { steps: 30, start_image_base64: 'x' } }));

    // Assess
    expect(echo?.parameters).toEqual({
      steps: 30,
      resolution: 640,
      frame_length: 65,
      seed: 0,
      interpolation: 2,
    });
  });

  it('keeps at most 256 characters of a client_reference that is too long', () => {
    // Act
    const echo = echoManifest(JSON.stringify({ client_reference: 'r'.repeat(300) }));

    // Assess
    expect(echo?.client_reference).toHaveLength(256);
  });

  it.each([['{"steps": 8,'], ['[1, 2]'], ['"text"'], ['null']])('echoes nothing of %s', (body) => {
    expect(echoManifest(body)).toBeUndefined();
  });
});
