/**
 * The rooms depend downwards only: contracts ← adapters ← functions and the worker ← local ← cli, with
 * bench and the tests on top. Each room is checked twice: on the real import graph of all its files
 * (esbuild's metafile, so what a file reaches through others counts), and on the imports each file
 * declares, type-only ones included (esbuild erases those, and tsc still needs the file they name).
 */
import { describe, expect, it } from 'vitest';
import { declaredImports, importGraph, sourcesUnder } from '../support/import-graph.js';

/** The rooms, most specific first: a file belongs to the first whose folder holds it. */
const ROOMS = [
  'contracts',
  'adapters',
  'functions',
  'gpu-container/worker',
  'gpu-container/image',
  'local/testkit',
  'local',
  'cli',
  'bench',
  'infra',
  'test',
] as const;
type Room = (typeof ROOMS)[number];

function roomOf(file: string): string {
  return ROOMS.find((room) => file.startsWith(`${room}/`)) ?? file.split('/')[0] ?? file;
}

const BELOW_LOCAL: Room[] = ['contracts', 'adapters', 'functions', 'gpu-container/worker'];

/**
 * What each room may import besides itself. local/testkit (test helpers that bench shares) is for bench
 * and the tests: the CLI and the local stack itself never load it, nor the devDependencies it uses.
 * gpu-container/image is the image's host-side tooling (its smoke run drives the built image against
 * the local stack), so it sits on top with bench; the worker it packages never imports it.
 */
const MAY_IMPORT: [Room, Room[]][] = [
  ['contracts', []],
  ['adapters', ['contracts']],
  ['functions', ['contracts', 'adapters']],
  ['gpu-container/worker', ['contracts', 'adapters']],
  ['local', BELOW_LOCAL],
  ['local/testkit', [...BELOW_LOCAL, 'local']],
  ['cli', [...BELOW_LOCAL, 'local']],
  ['gpu-container/image', [...BELOW_LOCAL, 'local']],
  ['bench', [...BELOW_LOCAL, 'local', 'local/testkit']],
];

const cases = MAY_IMPORT.map(([room, may]) => ({
  room,
  may,
  never: ROOMS.filter((other) => other !== room && !may.includes(other)).join(', '),
}));

/** The room's own files: those under its folder that belong to no more specific room. */
async function filesOf(room: Room): Promise<string[]> {
  return (await sourcesUnder(room)).filter((file) => roomOf(file) === room);
}

describe('room boundaries', () => {
  for (const { room, may, never } of cases) {
    it(`${room}/ reaches nothing in ${never}`, async () => {
      const { files } = await importGraph(await filesOf(room));

      const outside = files.filter((file) => roomOf(file) !== room && !may.includes(roomOf(file) as Room));
      expect(outside).toEqual([]);
    });

    it(`${room}/ declares no import of ${never}, type-only ones included`, async () => {
      const declared = await Promise.all(
        (await filesOf(room)).map(async (file) =>
          (await declaredImports(file)).map((target) => ({ file, target })),
        ),
      );

      const outside = declared
        .flat()
        .filter(({ target }) => roomOf(target) !== room && !may.includes(roomOf(target) as Room))
        .map(({ file, target }) => `${file} -> ${target}`);
      expect(outside).toEqual([]);
    });
  }

  it('sees the imports it checks: a type-only import is declared, though esbuild erases it', async () => {
    expect(await declaredImports('local/submission/upload-submission.ts')).toEqual([
      'contracts/ports.ts',
      'local/submission/prepare-submission.ts',
    ]);
    expect((await importGraph('local/submission/upload-submission.ts')).files).toEqual([
      'local/submission/upload-submission.ts',
    ]);
  });
});
