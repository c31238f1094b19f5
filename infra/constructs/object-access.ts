/**
 * Prefix-scoped S3 grants. CDK's bucket.grantRead/grantReadWrite hand out wildcards (s3:GetObject*,
 * s3:List*, the whole bucket); Heritage roles get the exact actions on the exact prefixes instead.
 */
import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';

export type ObjectAction = 's3:GetObject' | 's3:PutObject' | 's3:AbortMultipartUpload';

/**
 * How cdk-nag spells the ARN of the objects under `prefix` in its finding ids. It writes a policy
 * variable such as `${aws:PrincipalTag/x}` as `<aws:PrincipalTag/x>`, as it does Fn::Sub's syntax.
 */
export function nagObjectsResource(bucket: s3.IBucket, prefix: string): string {
  const flat = prefix.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const cfnBucket = bucket.node.defaultChild as CfnElement | undefined;
  if (cfnBucket) return `<${Stack.of(bucket).getLogicalId(cfnBucket)}.Arn>/${flat}*`;
  if (Token.isUnresolved(bucket.bucketName)) throw new Error('an imported bucket needs a literal name');
  return `arn:<AWS::Partition>:s3:::${bucket.bucketName}/${flat}*`;
}

/** Allows `actions` on the objects under `prefix` (which ends in "/"), and only there. */
export function allowObjects(
  role: iam.Role,
  bucket: s3.IBucket,
  prefix: string,
  actions: readonly ObjectAction[],
): void {
  role.addToPolicy(
    new iam.PolicyStatement({ actions: [...actions], resources: [bucket.arnForObjects(`${prefix}*`)] }),
  );
  Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagObjectsResource(bucket, prefix)}]`,
    reason: `Request and model keys are generated per request; the wildcard is confined to the ${prefix} prefix.`,
  });
}

/**
 * Allows listing the bucket. Without it S3 answers 403 instead of 404 for a missing key, and the
 * handlers could not tell "not uploaded yet" from "not allowed". Listing reveals key names only.
 */
export function allowListing(role: iam.Role, bucket: s3.IBucket, prefixes?: readonly string[]): void {
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: prefixes
        ? { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } }
        : undefined,
    }),
  );
}
