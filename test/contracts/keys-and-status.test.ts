import { describe, expect, it } from 'vitest';
import { frameFileName, parseInboxManifestKey, requestKeys } from '../../contracts/keys.js';
import { canTransition, isTerminal, REQUEST_STATES } from '../../contracts/lifecycle/status.js';

describe('S3 key layout', () => {
  it('builds every key of a request under its own prefixes', () => {
    const keys = requestKeys('req_1-A');
    expect(keys.manifest).toBe('inbox/req_1-A/manifest.json');
    expect(keys.inboxObject('start.png')).toBe('inbox/req_1-A/start.png');
    expect(keys.status).toBe('requests/req_1-A/status.json');
    expect(keys.frame(1)).toBe('outputs/req_1-A/frames/frame_00001.png');
    expect(keys.frame(129)).toBe('outputs/req_1-A/frames/frame_00129.png');
    expect(keys.video).toBe('outputs/req_1-A/video.mp4');
    expect(keys.result).toBe('outputs/req_1-A/result.json');
  });

  it('refuses an image name that would leave the request prefix', () => {
    expect(() => requestKeys('r1').inboxObject('../r2/start.png')).toThrow();
  });

  it('reads the request id from inbox manifest keys only', () => {
    expect(parseInboxManifestKey('inbox/abc/manifest.json')).toBe('abc');
    expect(parseInboxManifestKey('inbox/abc/start.png')).toBeUndefined();
    expect(parseInboxManifestKey('inbox/abc/def/manifest.json')).toBeUndefined();
    expect(parseInboxManifestKey('outputs/abc/manifest.json')).toBeUndefined();
  });

  it('numbers frames from 1 with five digits', () => {
    expect(frameFileName(7)).toBe('frame_00007.png');
    expect(() => frameFileName(0)).toThrow(RangeError);
  });
});

describe('status transitions', () => {
  it('never leaves a terminal state', () => {
    for (const from of REQUEST_STATES.filter(isTerminal)) {
      for (const to of REQUEST_STATES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('allows the happy path and a retry after a released message', () => {
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('running', 'queued')).toBe(true);
    expect(canTransition('queued', 'succeeded')).toBe(false);
  });
});
