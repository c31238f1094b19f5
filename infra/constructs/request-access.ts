/**
 * The role a worker assumes once per request, and the only identity of the worker that reaches the
 * request bucket. It may read inbox/ and read and write requests/ and outputs/; the worker's session
 * policy (contracts/request-access-policy.ts) narrows that to one request's prefixes, since a session's
 * permissions are the intersection of the two. Only the job role may assume it.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { INBOX_PREFIX, OUTPUTS_PREFIX, REQUESTS_PREFIX, type RequestPrefixes } from '../../contracts/keys.js';
import { REQUEST_OBJECT_ACTIONS } from '../../contracts/request-access-policy.js';
import { allowListing, allowObjects } from './object-access.js';

const TOP_LEVEL_PREFIXES: Record<keyof RequestPrefixes, string> = {
  inbox: INBOX_PREFIX,
  requests: REQUESTS_PREFIX,
  outputs: OUTPUTS_PREFIX,
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
      assumedBy: new iam.ArnPrincipal(props.jobRole.roleArn),
      description:
        "Heritage worker, one request at a time: assumed with a session policy for that request's prefixes",
      maxSessionDuration: REQUEST_SESSION_MAX,
    });
    for (const [name, prefix] of Object.entries(TOP_LEVEL_PREFIXES)) {
      allowObjects(
        this.role,
        props.requestBucket,
        prefix,
        REQUEST_OBJECT_ACTIONS[name as keyof RequestPrefixes],
      );
    }
    allowListing(this.role, props.requestBucket, Object.values(TOP_LEVEL_PREFIXES));
    props.jobRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [this.role.roleArn] }),
    );
  }
}
