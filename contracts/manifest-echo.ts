/**
 * What a rejected event echoes of a manifest that did not validate: its client_reference and every
 * generation parameter that reads as an integer, so a client can tell which of its uploads was refused.
 */
import type { EchoedParameters } from './event.js';
import { CLIENT_REFERENCE_MAX_CHARS, ManifestSchema } from './manifest.js';

export interface ManifestEcho {
  client_reference?: string;
  parameters: EchoedParameters;
}

const ECHOED = ['steps', 'resolution', 'frame_length', 'seed', 'interpolation'] as const;
const DEFAULTS = ManifestSchema.parse({});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads what it can of a manifest as uploaded (v1 or the legacy body): undefined when it is not a JSON
 * object at all. A parameter left out gets its default, as it would have had; one that is not an
 * integer is left out; an integer out of range is echoed as sent.
 */
export function echoManifest(input: Uint8Array | string): ManifestEcho | undefined {
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input).replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  const fields = isObject(value.input) ? value.input : value;
  const parameters: EchoedParameters = {};
  for (const name of ECHOED) {
    const given = fields[name];
    if (given === undefined) parameters[name] = DEFAULTS[name];
    else if (Number.isSafeInteger(given)) parameters[name] = given as number;
  }
  const reference = fields.client_reference;
  return {
    ...(typeof reference === 'string'
      ? { client_reference: reference.slice(0, CLIENT_REFERENCE_MAX_CHARS) }
      : {}),
    parameters,
  };
}
