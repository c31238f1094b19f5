/** The Lambda use cases reach AWS only through ports: no SDK client in their import graph. */
import { describe, expect, it } from 'vitest';
import { importGraph } from '../support/import-graph.js';

describe('function boundaries', () => {
  it.each([
    'functions/dispatch/dispatch-request.ts',
    'functions/dispatch/process-intake.ts',
    'functions/dead-letter/fail-dead-letter.ts',
    'functions/reconcile/reconcile.ts',
    'contracts/lifecycle/terminal-event.ts',
  ])('%s imports no AWS SDK', async (entry) => {
    const { packages } = await importGraph(entry);
    expect(packages.filter((name) => name.startsWith('@aws-sdk/'))).toEqual([]);
  });
});
