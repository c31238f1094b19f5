import { describe, expect, it } from 'vitest';
import { cloneError, DownloadFailedError, ModelChecksumError, reviveError } from '../../contracts/errors.js';

/** What a worker thread's postMessage does to a value. */
const acrossThreads = <T>(value: T): T => structuredClone(value);

describe('cloneError and reviveError', () => {
  it('bring a HeritageError back across a thread boundary as its own class, with code, details and cause', () => {
    // Prepare
    const cause = new ModelChecksumError('bad bytes', { details: { key: 'a' } });
    const error = new DownloadFailedError('could not download a', { cause, details: { start: 5 } });

    // Act
    const revived = reviveError(acrossThreads(cloneError(error)));

    // Assess
    expect(revived).toBeInstanceOf(DownloadFailedError);
    expect(revived).toMatchObject({ code: 'DOWNLOAD_FAILED', retryable: true, details: { start: 5 } });
    expect(revived.message).toBe('could not download a');
    expect(revived.cause).toBeInstanceOf(ModelChecksumError);
    expect(revived.cause).toMatchObject({ code: 'MODEL_CHECKSUM', details: { key: 'a' } });
  });

  it('brings a plain error back as an Error with its name and message', () => {
    // Act
    const revived = reviveError(acrossThreads(cloneError(new TypeError('boom'))));

    // Assess
    expect(revived).not.toHaveProperty('code');
    expect([revived.name, revived.message]).toEqual(['TypeError', 'boom']);
  });
});
