/**
 * Progress of the four stages a request goes through: upload, queue, inference, download. On a terminal
 * they are bars (cli-progress); elsewhere (CI, pipes, --json) plain lines, one per stage step.
 */
import cliProgress from 'cli-progress';

export const STAGES = ['upload', 'queue', 'inference', 'download'] as const;
export type StageName = (typeof STAGES)[number];

export interface Stage {
  /** Sets how far the stage is, out of `total`, with an optional note (e.g. "running: 40%"). */
  update(value: number, note?: string): void;
  done(note?: string): void;
}

export interface Progress {
  stage(name: StageName, total: number, unit: string): Stage;
  stop(): void;
}

const PLAIN_STEPS = 4;

function plainProgress(write: (line: string) => void): Progress {
  return {
    stage(name, total, unit) {
      let printedStep = -1;
      let lastNote: string | undefined;
      let finished = false;
      const print = (value: number, note: string | undefined) =>
        write(`${name.padEnd(9)} ${value}/${total} ${unit}${note === undefined ? '' : `  ${note}`}`);
      return {
        update(value, note) {
          const step = total === 0 ? PLAIN_STEPS : Math.floor((value / total) * PLAIN_STEPS);
          // The last step is left to done(), which prints it once with its note.
          if (value < total && (step > printedStep || note !== lastNote)) {
            printedStep = step;
            lastNote = note;
            print(value, note);
          }
        },
        done(note) {
          if (finished) return;
          finished = true;
          print(total, note ?? 'done');
        },
      };
    },
    stop() {},
  };
}

function barProgress(): Progress {
  const bars = new cliProgress.MultiBar(
    {
      format: '{stage} |{bar}| {percentage}% {value}/{total} {unit} {note}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let stopped = false;
  return {
    stage(name, total, unit) {
      const bar = bars.create(Math.max(total, 1), 0, { stage: name.padEnd(9), unit, note: '' });
      return {
        update(value, note) {
          bar.update(value, { note: note ?? '' });
        },
        done(note) {
          bar.setTotal(Math.max(total, 1));
          bar.update(Math.max(total, 1), { note: note ?? 'done' });
        },
      };
    },
    stop() {
      // Stopping twice would redraw the bars over whatever was printed after the first stop.
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}

/** Bars on an interactive terminal, plain lines to `write` otherwise. */
export function createProgress(options: { interactive: boolean; write: (line: string) => void }): Progress {
  return options.interactive ? barProgress() : plainProgress(options.write);
}
