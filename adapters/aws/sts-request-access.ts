/**
 * RequestAccess over STS: each request's stores sign with credentials of the request-access role,
 * assumed with that request's session policy (contracts/request-access-policy.ts). The job role itself
 * may not touch the request bucket; what a worker can reach there is what IAM lets this session do.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type AssumeRoleCommandInput, type STSClient } from '@aws-sdk/client-sts';
import { TransientError } from '../../contracts/errors.js';
import { ObjectStatusStore } from '../../contracts/lifecycle/status-store.js';
import type { RequestAccess, RequestStores } from '../../contracts/ports.js';
import { REQUEST_SESSION_TAG, requestSessionPolicy } from '../../contracts/request-access-policy.js';
import { S3ObjectStore } from './s3-object-store.js';

/**
 * The job role's credentials are themselves an assumed-role session, so this is role chaining, which
 * STS caps at one hour whatever the role's maximum. A longer request keeps going: the SDK assumes the
 * role again, with the same policy, five minutes before the credentials expire.
 */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

export interface StsRequestAccessOptions {
  sts: STSClient;
  /** The request-access role; its partition also names the bucket's. */
  roleArn: string;
  bucket: string;
  /** Region, endpoint and the like of each request's S3 client; its credentials come from the role. */
  s3Config?: Omit<S3ClientConfig, 'credentials'>;
  durationSeconds?: number;
}

/** STS takes 2 to 64 characters of [\w+=,.@-] as a session name; a request id is 1 to 64 of [\w-]. */
export function sessionName(requestId: string): string {
  return requestId.padEnd(2, '_');
}

export class StsRequestAccess implements RequestAccess {
  private readonly bucketArn: string;

  constructor(private readonly options: StsRequestAccessOptions) {
    const partition = options.roleArn.split(':')[1];
    if (!options.roleArn.startsWith('arn:') || !partition) {
      throw new Error(`not a role ARN: ${options.roleArn}`);
    }
    this.bucketArn = `arn:${partition}:s3:::${options.bucket}`;
  }

  forRequest(requestId: string): RequestStores {
    const input: AssumeRoleCommandInput = {
      RoleArn: this.options.roleArn,
      // The request id in CloudTrail: every S3 call of this session names the request it served.
      RoleSessionName: sessionName(requestId),
      Policy: JSON.stringify(requestSessionPolicy({ bucketArn: this.bucketArn, requestId })),
      // The role's own policy reaches only the prefixes this tag names, with or without the policy above.
      Tags: [{ Key: REQUEST_SESSION_TAG, Value: requestId }],
      DurationSeconds: this.options.durationSeconds ?? ROLE_CHAINING_MAX_SECONDS,
    };
    // The client memoizes the provider and calls it again as expiry nears, so refresh needs nothing here.
    const credentials = async () => {
      const { Credentials: issued } = await this.options.sts.send(new AssumeRoleCommand(input));
      if (issued?.AccessKeyId === undefined || issued.SecretAccessKey === undefined) {
        throw new TransientError(`STS issued no credentials for request ${requestId}`);
      }
      return {
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        ...(issued.SessionToken === undefined ? {} : { sessionToken: issued.SessionToken }),
        ...(issued.Expiration === undefined ? {} : { expiration: issued.Expiration }),
      };
    };
    const s3 = new S3Client({ ...this.options.s3Config, credentials });
    const store = new S3ObjectStore(s3, this.options.bucket);
    return { store, statuses: new ObjectStatusStore(store) };
  }
}
