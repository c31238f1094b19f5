/**
 * Entry point of the `heritage` command-line tool: routes to a command and turns what it throws into a
 * clear message and a documented exit code (cli/exit-codes.ts, README "Exit codes").
 */
import { isHeritageError, isInputError, toErrorInfo } from '../contracts/errors.js';
import { EXIT, exitCodeFor, RequestFailedError, UsageError } from './exit-codes.js';

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

/** The emulator uses node:sqlite, whose "experimental" warning would only confuse users of the CLI. */
function silenceSqliteWarning(): void {
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('SQLite is an experimental feature')) return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

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

Deployment (submit, status, wait, fetch):
  --endpoint URL           a local stack (or HERITAGE_ENDPOINT / AWS_ENDPOINT_URL)
  --stack NAME             CloudFormation stack to read outputs from (default Heritage)
  --bucket NAME            request bucket (or REQUEST_BUCKET), skips the stack lookup
  --region REGION          AWS region (or AWS_REGION)
  --json                   machine-readable output on stdout

Exit codes: 0 ok, 1 request failed/rejected/timed out, 2 usage error, 3 validation error, 4 AWS or infrastructure error.
Run heritage <command> --help for a command's options.`;

function route(argv: string[]): { load: () => Promise<Command>; args: string[] } | undefined {
  const [first = '', second = ''] = argv;
  const pair = COMMANDS[`${first} ${second}`];
  if (pair !== undefined) return { load: pair, args: argv.slice(2) };
  const single = COMMANDS[first];
  return single === undefined ? undefined : { load: single, args: argv.slice(1) };
}

function reportError(error: unknown, json: boolean): number {
  const exitCode = exitCodeFor(error);
  const info =
    error instanceof RequestFailedError && error.info !== undefined
      ? error.info
      : isInputError(error)
        ? toErrorInfo(error)
        : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const prefix = info === undefined ? '' : `${info.code}: `;
  const kind =
    exitCode === EXIT.infrastructure && !isHeritageError(error) ? 'AWS or infrastructure error: ' : '';
  const text = `${kind}${prefix}${message}`;
  process.stderr.write(`heritage: ${text}\n`);
  if (exitCode === EXIT.usage) process.stderr.write('Run heritage --help for usage.\n');
  if (
    exitCode === EXIT.infrastructure &&
    !(error instanceof UsageError) &&
    process.env.HERITAGE_DEBUG !== undefined
  ) {
    process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, exit_code: exitCode, error: info ?? { code: null, message } }, null, 2)}\n`,
    );
  }
  return exitCode;
}

export async function main(argv: string[]): Promise<number> {
  silenceSqliteWarning();
  const json = argv.includes('--json');
  if (argv.length === 0) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const routed = route(argv);
  if (routed === undefined) {
    return reportError(new UsageError(`unknown command '${argv.slice(0, 2).join(' ')}'`), json);
  }
  try {
    const command = await routed.load();
    await command(routed.args);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, json);
  }
}

process.exitCode = await main(process.argv.slice(2));
