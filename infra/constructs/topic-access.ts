/**
 * Publishing to a KMS-encrypted topic. topic.grantPublish also grants `kms:GenerateDataKey*`; SNS
 * needs exactly GenerateDataKey and Decrypt on the topic's key, so that is all a publisher gets.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';

export function allowPublish(role: iam.Role, topic: sns.ITopic, key: kms.IKey): void {
  role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }));
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
  );
}
