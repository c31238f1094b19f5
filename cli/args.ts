/** Command-line parsing on node:util parseArgs, with the flags every command shares. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './exit-codes.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags that choose the deployment and the output format; every command that talks to AWS takes them. */
export const TARGET_OPTIONS = {
  stack: { type: 'string' },
  bucket: { type: 'string' },
  'topic-arn': { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
} as const satisfies Options;

export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export interface TargetFlags {
  stack?: string | undefined;
  bucket?: string | undefined;
  'topic-arn'?: string | undefined;
  endpoint?: string | undefined;
  region?: string | undefined;
}

/** parseArgs in strict mode, with its errors turned into usage errors that name the command. */
export function parseCommand<T extends Options>(
  command: string,
  args: string[],
  options: T,
  positionals: { min: number; max: number; names: string },
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message}`);
  }
  const count = parsed.positionals.length;
  if (
    !('help' in parsed.values && parsed.values.help === true) &&
    (count < positionals.min || count > positionals.max)
  ) {
    throw new UsageError(
      `${command}: expected ${positionals.names}, got ${count === 0 ? 'nothing' : parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  }
  return parsed;
}

/** Reads an integer flag; a missing flag is undefined, anything but an integer is a usage error. */
export function integerFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim()))
    throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Reads a duration in seconds; must be positive. */
export function secondsFlag(name: string, value: string | undefined, fallback: number): number {
  const seconds = integerFlag(name, value) ?? fallback;
  if (seconds <= 0) throw new UsageError(`--${name} must be a positive number of seconds`);
  return seconds;
}
