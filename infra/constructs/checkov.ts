/**
 * checkov reads skips from a resource's `Metadata.checkov.skip` in the synthesized template. Each skip
 * is recorded here, next to the resource it concerns, with the reason it does not apply.
 */
import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface CheckovSkip {
  id: `CKV_${string}`;
  /** Why the check does not apply to this resource. */
  comment: string;
}

export function skipCheckov(construct: IConstruct, ...skips: CheckovSkip[]): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource to record checkov skips on`);
  }
  const existing = (resource.getMetadata('checkov') as { skip?: CheckovSkip[] } | undefined)?.skip ?? [];
  resource.addMetadata('checkov', { skip: [...existing, ...skips] });
}

/** Log groups: encrypted at rest by CloudWatch Logs; they hold no secrets (docs/reliability.md). */
export const LOG_GROUP_KMS_SKIP: CheckovSkip = {
  id: 'CKV_AWS_158',
  comment:
    'CloudWatch Logs encrypts every log group at rest with service-managed keys; these hold operational logs without secrets, and a customer key would add a key policy and cost for no gain.',
};
