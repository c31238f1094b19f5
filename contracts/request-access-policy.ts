/**
 * What one request's worker may do in the request bucket, as an IAM policy. The worker assumes the
 * request-access role with this as its session policy and the request id as a session tag, so IAM, not
 * worker code, keeps it inside the request's own prefixes. infra/ grants the role the same actions on
 * the prefixes its session tag names; the session policy narrows them again (effective permissions are
 * the intersection of the two).
 */
import { type RequestPrefixes, requestPrefixes } from './keys.js';

/** The object actions a worker needs under each of a request's prefixes; it never deletes. */
export const REQUEST_OBJECT_ACTIONS = {
  inbox: ['s3:GetObject'],
  requests: ['s3:GetObject', 's3:PutObject'],
  outputs: ['s3:GetObject', 's3:PutObject'],
} as const satisfies Record<keyof RequestPrefixes, readonly string[]>;

export type RequestObjectAction = (typeof REQUEST_OBJECT_ACTIONS)[keyof RequestPrefixes][number];

/**
 * The session tag that names a session's request. The request-access role's own policy reads it back
 * (`${aws:PrincipalTag/heritage-request}`) and its trust policy demands it, so a session reaches one
 * request's prefixes even if it was assumed without the session policy below.
 */
export const REQUEST_SESSION_TAG = 'heritage-request';

/** STS refuses a session policy longer than this (plain text, before its own packing). */
export const SESSION_POLICY_MAX_CHARS = 2048;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

const SIDS: Record<keyof RequestPrefixes, string> = {
  inbox: 'ReadOwnInbox',
  requests: 'TrackOwnRequest',
  outputs: 'WriteOwnOutputs',
};

/**
 * The session policy for one request: its object actions on its three prefixes, and listing only under
 * them. Listing is what lets S3 answer 404 rather than 403 for a key that is not there yet (result.json,
 * the event outbox).
 */
export function requestSessionPolicy(input: { bucketArn: string; requestId: string }): PolicyDocument {
  const prefixes = requestPrefixes(input.requestId);
  const names = Object.keys(REQUEST_OBJECT_ACTIONS) as (keyof RequestPrefixes)[];
  return {
    Version: '2012-10-17',
    Statement: [
      ...names.map(
        (name): PolicyStatement => ({
          Sid: SIDS[name],
          Effect: 'Allow',
          Action: [...REQUEST_OBJECT_ACTIONS[name]],
          Resource: `${input.bucketArn}/${prefixes[name]}*`,
        }),
      ),
      {
        Sid: 'ListOwnKeys',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: input.bucketArn,
        Condition: { StringLike: { 's3:prefix': names.map((name) => `${prefixes[name]}*`) } },
      },
    ],
  };
}
