/**
 * The EMF records that functions running in this process write while a capture is on. Powertools
 * Metrics writes each record as one console.log line (through the global console in POWERTOOLS_DEV
 * mode, which the local stack sets for its in-process functions); those lines are kept here instead of
 * printed, and every other line passes through.
 */
import { type EmfRecord, parseEmfLine } from '../../local/emf-records.js';

export interface EmfCapture {
  readonly records: EmfRecord[];
  stop(): void;
}

export function captureConsoleEmf(): EmfCapture {
  const records: EmfRecord[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => {
    const record = args.length === 1 && typeof args[0] === 'string' ? parseEmfLine(args[0]) : undefined;
    if (record === undefined) original.apply(console, args);
    else records.push(record);
  };
  return {
    records,
    stop() {
      console.log = original;
    },
  };
}
