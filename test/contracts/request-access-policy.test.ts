import { describe, expect, it } from 'vitest';
import { RequestIdInvalidError } from '../../contracts/errors.js';
import { requestKeys, requestPrefixes } from '../../contracts/keys.js';
import {
  type PolicyDocument,
  requestSessionPolicy,
  SESSION_POLICY_MAX_CHARS,
} from '../../contracts/request-access-policy.js';

const BUCKET_ARN = 'arn:aws:s3:::heritage-requests';

/** IAM's string matching for ARNs and StringLike: `*` any run of characters, `?` one character. */
function iamMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

/** The actions the policy allows on one object key, as IAM would evaluate the Resource element. */
function allowedOn(policy: PolicyDocument, key: string): string[] {
  return policy.Statement.filter((statement) => iamMatches(statement.Resource, `${BUCKET_ARN}/${key}`))
    .flatMap((statement) => statement.Action)
    .sort();
}

/** Whether ListBucket with this prefix parameter passes the policy's condition. */
function mayList(policy: PolicyDocument, prefix: string): boolean {
  return policy.Statement.some(
    (statement) =>
      statement.Action === 's3:ListBucket' &&
      statement.Resource === BUCKET_ARN &&
      (statement.Condition?.StringLike?.['s3:prefix'] ?? []).some((pattern) => iamMatches(pattern, prefix)),
  );
}

describe('request prefixes', () => {
  it("lists a request's inbox, requests and outputs prefixes, each closed by a slash", () => {
    // Act
    const prefixes = requestPrefixes('req_1-A');

    // Assess
    expect(prefixes).toEqual({
      inbox: 'inbox/req_1-A/',
      requests: 'requests/req_1-A/',
      outputs: 'outputs/req_1-A/',
    });
  });

  it('holds every key the request layout builds', () => {
    // Prepare
    const keys = requestKeys('r7');
    const prefixes = Object.values(requestPrefixes('r7'));
    const built = [
      keys.manifest,
      keys.inboxObject('start.png'),
      keys.inlineInput('end.png'),
      keys.status,
      keys.event,
      keys.frame(1),
      keys.video,
      keys.result,
    ];

    // Assess
    for (const key of built)
      expect(
        prefixes.some((prefix) => key.startsWith(prefix)),
        key,
      ).toBe(true);
  });

  it('refuses an id that could widen a policy (wildcards, separators)', () => {
    // Assess
    for (const id of ['*', 'a/b', 'a?', '']) {
      expect(() => requestPrefixes(id)).toThrow(RequestIdInvalidError);
    }
  });
});

describe('request session policy', () => {
  const policy = requestSessionPolicy({ bucketArn: BUCKET_ARN, requestId: 'ab' });

  it("allows reading the request's inbox, and reading and writing its requests/ and outputs/", () => {
    // Assess
    expect(allowedOn(policy, 'inbox/ab/start.png')).toEqual(['s3:GetObject']);
    expect(allowedOn(policy, 'requests/ab/status.json')).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(allowedOn(policy, 'outputs/ab/frames/frame_00001.png')).toEqual(['s3:GetObject', 's3:PutObject']);
  });

  it('allows nothing on another request, even one whose id starts the same', () => {
    // Assess
    for (const id of ['abc', 'a', 'b', 'ab-2']) {
      const other = requestKeys(id);
      for (const key of [other.inboxObject('start.png'), other.status, other.event, other.result]) {
        expect(allowedOn(policy, key), key).toEqual([]);
      }
    }
    expect(allowedOn(policy, 'models/wan.safetensors')).toEqual([]);
  });

  it('lists only under the request prefixes', () => {
    // Assess
    expect(mayList(policy, 'outputs/ab/')).toBe(true);
    expect(mayList(policy, 'outputs/ab/result.json')).toBe(true);
    expect(mayList(policy, 'requests/ab/event.json')).toBe(true);
    expect(mayList(policy, 'outputs/abc/')).toBe(false);
    expect(mayList(policy, 'outputs/')).toBe(false);
    expect(mayList(policy, '')).toBe(false);
  });

  it('never allows deleting, and names no wildcard action', () => {
    // Act
    const actions = policy.Statement.flatMap((statement) => statement.Action);

    // Assess
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*') || action.includes('Delete'))).toEqual([]);
  });

  it('fits the STS session-policy limit for the longest id, bucket name and partition', () => {
    // Prepare
    const longest = requestSessionPolicy({
      bucketArn: `arn:aws-us-gov:s3:::${'b'.repeat(63)}`,
      requestId: 'r'.repeat(64),
    });

    // Act
    const size = JSON.stringify(longest).length;

    // Assess
    expect(size).toBeLessThan(SESSION_POLICY_MAX_CHARS);
  });
});
