import { describe, expect, it } from 'vitest';
import { collateralVictims, lostReceives, readJournal, secondEventExcused } from './collateral.js';

const line = (message: string, requestId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ level: 'INFO', message, request_id: requestId, ...extra });

describe('collateral victims of a kill', () => {
  it('names the request in flight beside the target of a SIGKILL, and counts overlapping takes', () => {
    // Prepare: a finished request, then a delivering target and the next request rendering beside it.
    const journal = readJournal([
      line('request taken', 'done-1'),
      line('request left', 'done-1', { outcome: 'succeeded' }),
      line('request taken', 'target'),
      'not json: ffmpeg noise',
      line('request taken', 'beside'),
      line('uploading', 'target'),
    ]);

    // Act
    const kill = { workerId: 'w1', target: 'target', signal: 'SIGKILL' as const, at: 1000 };
    const victims = collateralVictims([kill], new Map([['w1', journal]]));

    // Assess
    expect(journal).toMatchObject({ inFlightAtEnd: ['target', 'beside'], released: [], overlappedTakes: 1 });
    expect([...journal.takes]).toEqual([
      ['done-1', 1],
      ['target', 1],
      ['beside', 1],
    ]);
    expect([...victims]).toEqual([['beside', [kill]]]);
  });

  it('names what a SIGTERM released beside its target, and nothing for a worker that held one request', () => {
    // Prepare
    const released = readJournal([
      line('request taken', 'target'),
      line('request taken', 'beside'),
      line('request left', 'beside', { outcome: 'released' }),
      line('request left', 'target', { outcome: 'released' }),
    ]);
    const alone = readJournal([line('request taken', 'other-target'), line('request taken', 'other-target')]);

    // Act
    const victims = collateralVictims(
      [
        { workerId: 'w1', target: 'target', signal: 'SIGTERM', at: 1 },
        { workerId: 'w2', target: 'other-target', signal: 'SIGKILL', at: 2 },
        { workerId: 'w3', target: 'unlogged', signal: 'SIGKILL', at: 3 },
      ],
      new Map([
        ['w1', released],
        ['w2', alone],
      ]),
    );

    // Assess
    expect([...victims.entries()].map(([id, kills]) => [id, kills.map((k) => k.target)])).toEqual([
      ['beside', ['target']],
    ]);
    expect(alone.overlappedTakes).toBe(1);
  });

  it('excuses a second event only when it repeats the body and a kill landed inside the marker window', () => {
    // Prepare
    const kill = { workerId: 'w1', target: 'other', signal: 'SIGKILL' as const, at: 1_050 };
    const window = { answeredAt: 1_000, markedAt: 1_600 };
    const body = '{"request_id":"r","status":"succeeded"}';

    // Act and assess
    expect(secondEventExcused([body, body], [kill], window)).toBe(true);
    expect(secondEventExcused([body, body], [kill], { answeredAt: 1_000, markedAt: undefined })).toBe(true);
    expect(secondEventExcused([body, body.replace('succeeded', 'failed')], [kill], window)).toBe(false);
    expect(secondEventExcused([body, body], [{ ...kill, at: 900 }], window)).toBe(false);
    expect(secondEventExcused([body, body], [{ ...kill, at: 1_700 }], window)).toBe(false);
    expect(secondEventExcused([body, body], [], window)).toBe(false);
    expect(secondEventExcused([body, body, body], [kill], window)).toBe(false);
    expect(secondEventExcused([body], [kill], window)).toBe(false);
  });

  it('counts the receives of a request that no worker logged, against the receive limit', () => {
    // Prepare: two workers each took the request once; the third receive went to a poll a kill ended.
    const journals = [
      readJournal([line('request taken', 'r'), line('request taken', 'other')]),
      readJournal([line('request taken', 'r'), line('request left', 'r', { outcome: 'lost' })]),
    ];

    // Act and assess
    expect(lostReceives('r', journals, 3)).toBe(1);
    expect(lostReceives('other', journals, 3)).toBe(2);
    expect(lostReceives('r', journals, 2)).toBe(0);
    expect(lostReceives('never-taken', [], 3)).toBe(3);
  });
});
