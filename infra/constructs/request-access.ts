/**
 * The role a worker assumes once per request, and the only identity of the worker that reaches the
 * request bucket. Its policy allows the worker's object actions under the prefixes of the one request
 * its session tag names (attribute-based: `${aws:PrincipalTag/heritage-request}` in the resource ARNs),
 * and its trust policy admits only the job role, and only with that tag. The worker's session policy
 * (contracts/request-access-policy.ts) names the same prefixes again.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INBOX_PREFIX, OUTPUTS_PREFIX, REQUESTS_PREFIX, type RequestPrefixes } from '../../contracts/keys.js';
import { REQUEST_OBJECT_ACTIONS, REQUEST_SESSION_TAG } from '../../contracts/request-access-policy.js';
import { allowListing, allowObjects } from './object-access.js';

/** The session's request id, as IAM reads it back from the session tag. */
const SESSION_REQUEST = `\${aws:PrincipalTag/${REQUEST_SESSION_TAG}}`;

/** The prefixes of the session's own request: a tag value cannot hold a wildcard, so they are one request's. */
export const SESSION_PREFIXES: RequestPrefixes = {
  inbox: `${INBOX_PREFIX}${SESSION_REQUEST}/`,
  requests: `${REQUESTS_PREFIX}${SESSION_REQUEST}/`,
  outputs: `${OUTPUTS_PREFIX}${SESSION_REQUEST}/`,
};

/** Role chaining (the job role's session assumes this one) caps a session at one hour anyway. */
export const REQUEST_SESSION_MAX = Duration.hours(1);

export interface RequestAccessProps {
  readonly jobRole: iam.Role;
  readonly requestBucket: s3.IBucket;
}

export class RequestAccess extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RequestAccessProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ArnPrincipal(props.jobRole.roleArn).withSessionTags().withConditions({
        // Exactly one tag, the request's: a session without it reaches nothing, and none can add others.
        Null: { [`aws:RequestTag/${REQUEST_SESSION_TAG}`]: 'false' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [REQUEST_SESSION_TAG] },
      }),
      description: "Heritage worker, one request at a time: its session tag names the request's prefixes",
      maxSessionDuration: REQUEST_SESSION_MAX,
    });
    for (const [name, prefix] of Object.entries(SESSION_PREFIXES)) {
      allowObjects(
        this.role,
        props.requestBucket,
        prefix,
        REQUEST_OBJECT_ACTIONS[name as keyof RequestPrefixes],
      );
    }
    allowListing(this.role, props.requestBucket, Object.values(SESSION_PREFIXES));
    props.jobRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [this.role.roleArn],
      }),
    );
  }
}
