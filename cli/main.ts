/**
 * Entry point of the `heritage` command-line tool: routes to a command and turns what it throws into a
 * clear message and a documented exit code (cli/exit-codes.ts, README "Exit codes").
 */
import { readFileSync } from 'node:fs';
import { type ErrorInfo, isHeritageError, isInputError, toErrorInfo } from '../contracts/errors.js';
import { closestName } from '../contracts/suggest.js';
import { EXIT, exitCodeFor, RequestFailedError, UsageError } from './exit-codes.js';
import { writeEnvelope } from './output.js';

type Command = (args: string[]) => Promise<void>;

/** Loaded on demand, so that `validate` never loads the AWS SDK or the emulator. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  submit: async () => (await import('./commands/submit.js')).submit,
  status: async () => (await import('./commands/status.js')).status,
  wait: async () => (await import('./commands/wait.js')).wait,
  fetch: async () => (await import('./commands/fetch.js')).fetch,
  validate: async () => (await import('./commands/validate.js')).validate,
  demo: async () => (await import('./commands/demo.js')).demo,
  'local up': async () => (await import('./commands/local-up.js')).localUp,
  'gpu-smoke': async () => (await import('./gpu-smoke.js')).gpuSmoke,
  'models sync': async () => (await import('./commands/models-sync.js')).modelsSync,
};
const COMMAND_NAMES = Object.keys(COMMANDS);

/** The emulator uses node:sqlite, whose "experimental" warning would only confuse users of the CLI. */
function silenceSqliteWarning(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('SQLite is an experimental feature')) return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const USAGE = `Usage: heritage <command> [options]

Commands:
  submit <start> <end>     validate, upload the images and the manifest (--wait to wait and download)
  status <id>              show a request's status
  wait <id>                wait until a request is finished (--out DIR to download it)
  fetch <id>               download frames, video.mp4 and result.json (--out DIR)
  validate <manifest>      check a manifest offline, with the same errors as dispatch
  demo                     run the whole pipeline on this machine
  local up                 keep the local stack running and print its endpoint
  gpu-smoke                inside the GPU image: run the reference request and print per-node times
                           (--synthetic writes random-valued model files first: the frames are noise)
  models sync              mirror the models of gpu-container/models.json into the model bucket

Deployment (submit, status, wait, fetch, models sync):
  --endpoint URL           a local stack (or HERITAGE_ENDPOINT / AWS_ENDPOINT_URL)
  --stack NAME             CloudFormation stack to read outputs from (default Heritage)
  --bucket NAME            request bucket (or REQUEST_BUCKET), skips the stack lookup
  --region REGION          AWS region (or AWS_REGION)
  --json                   one JSON document on stdout: {ok, exit_code, command, result, error}

  --version                print the version
  heritage <command> --help, heritage help <command>: a command's options

Exit codes: 0 ok, 1 request failed/rejected/unknown/timed out, 2 usage error, 3 validation error,
4 AWS or infrastructure error.`;

type Routed = { name: string; load: () => Promise<Command>; args: string[] };

function route(argv: string[]): Routed | undefined {
  const [first = '', second = ''] = argv;
  const pair = `${first} ${second}`;
  const paired = COMMANDS[pair];
  if (paired !== undefined) return { name: pair, load: paired, args: argv.slice(2) };
  const single = COMMANDS[first];
  return single === undefined ? undefined : { name: first, load: single, args: argv.slice(1) };
}

/** Why argv names no command, with the command it most likely meant. */
function unknownCommand(argv: string[]): UsageError {
  const [first = '', second] = argv;
  const hint = { hint: 'Run heritage --help for the commands.' };
  const group = COMMAND_NAMES.filter((name) => name.startsWith(`${first} `));
  if (group.length > 0) {
    const given = second === undefined || second.startsWith('-') ? undefined : second;
    const guess = given === undefined ? undefined : closestName(`${first} ${given}`, group);
    const known = group.map((name) => `'${name}'`).join(', ');
    if (given === undefined) return new UsageError(`'${first}' needs a subcommand: ${known}`, hint);
    return new UsageError(
      `unknown command '${first} ${given}'${guess === undefined ? `; there is ${known}` : ` (did you mean '${guess}'?)`}`,
      hint,
    );
  }
  const words = first.startsWith('-') ? first : [first, second].filter(Boolean).join(' ');
  const guess = closestName(first, COMMAND_NAMES) ?? closestName(words, COMMAND_NAMES);
  const what = first.startsWith('-') ? `unknown option ${first}` : `unknown command '${first}'`;
  return new UsageError(`${what}${guess === undefined ? '' : ` (did you mean '${guess}'?)`}`, hint);
}

/** The error as one line, the pipeline's code said once: "request x rejected: MANIFEST_INVALID: …". */
function describeError(error: unknown, info: ErrorInfo | undefined, exitCode: number): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RequestFailedError) {
    return info === undefined ? message : `${message}: ${info.code}: ${info.message}`;
  }
  if (info !== undefined) return `${info.code}: ${message}`;
  const kind =
    exitCode === EXIT.infrastructure && !isHeritageError(error) ? 'AWS or infrastructure error: ' : '';
  return `${kind}${message}`;
}

function reportError(error: unknown, json: boolean, command: string | null): number {
  const exitCode = exitCodeFor(error);
  const info =
    error instanceof RequestFailedError ? error.info : isInputError(error) ? toErrorInfo(error) : undefined;
  process.stderr.write(`heritage: ${describeError(error, info, exitCode)}\n`);
  const hint = (error as { hint?: unknown }).hint;
  if (typeof hint === 'string') process.stderr.write(`  ${hint}\n`);
  if (exitCode === EXIT.infrastructure && process.env.HERITAGE_DEBUG !== undefined) {
    process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  }
  if (json) {
    const message = error instanceof Error ? error.message : String(error);
    writeEnvelope({
      ok: false,
      exit_code: exitCode,
      command,
      result: error instanceof RequestFailedError ? (error.result ?? null) : null,
      error: info ?? { code: null, message },
    });
  }
  return exitCode;
}

/** `heritage help submit`, `heritage local --help`: the same as `<command> --help`. */
function helpRoute(argv: string[]): Routed | undefined {
  const [first = '', ...rest] = argv;
  if (first === 'help' && rest.length > 0) {
    const asked = [...rest.filter((arg) => arg !== '--json'), '--help'];
    return helpRoute(asked) ?? route(asked);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const group = COMMAND_NAMES.filter((name) => name.startsWith(`${first} `));
    const only = group.length === 1 ? group[0] : undefined;
    if (only !== undefined) return route([...only.split(' '), '--help']);
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  silenceSqliteWarning();
  const json = argv.includes('--json');
  const [first] = argv;
  if (first === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (first === '--version' || first === '-V' || first === 'version') {
    if (json)
      writeEnvelope({
        ok: true,
        exit_code: 0,
        command: 'version',
        result: { version: VERSION },
        error: null,
      });
    else process.stdout.write(`heritage ${VERSION}\n`);
    return EXIT.ok;
  }
  const routed = helpRoute(argv) ?? route(argv);
  if (routed === undefined) {
    return reportError(unknownCommand(first === 'help' ? argv.slice(1) : argv), json, null);
  }
  try {
    const command = await routed.load();
    await command(routed.args);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, json, routed.name);
  }
}

process.exitCode = await main(process.argv.slice(2));
