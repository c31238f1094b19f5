/** Command-line parsing on node:util parseArgs, with the flags every command shares. */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../contracts/suggest.js';
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

/** parseArgs' own error, said the way the rest of the CLI speaks, with "did you mean" for a typo. */
function usageErrorOf(command: string, error: Error & { code?: string }, options: Options): UsageError {
  const hint = { hint: `Run heritage ${command} --help for its options.` };
  const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
    const known = Object.keys(options);
    const guess = closestName(unknown.replace(/^-+/, ''), known);
    const suggestion = guess === undefined ? '' : ` (did you mean --${guess}?)`;
    return new UsageError(`${command}: unknown option ${unknown}${suggestion}`, hint);
  }
  // "Option '--frames <value>' argument missing", or "... argument is ambiguous" when a flag follows.
  const valueless = /^Option '[^']*?(--[\w-]+)[^']*' argument (missing|is ambiguous)/.exec(
    error.message,
  )?.[1];
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && valueless !== undefined) {
    return new UsageError(`${command}: ${valueless} needs a value`, hint);
  }
  return new UsageError(`${command}: ${error.message}`, hint);
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
    throw usageErrorOf(command, error as Error & { code?: string }, options);
  }
  const count = parsed.positionals.length;
  if (
    !('help' in parsed.values && parsed.values.help === true) &&
    (count < positionals.min || count > positionals.max)
  ) {
    throw new UsageError(
      `${command}: expected ${positionals.names}, got ${count === 0 ? 'nothing' : parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}`,
      { hint: `Run heritage ${command} --help for its usage.` },
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
