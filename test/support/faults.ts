/**
 * Fault injection on real SDK clients: a middleware that fails chosen commands before they leave the
 * client, the way an overloaded or unavailable service answers (503). Everything else reaches the emulator.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';

let installed = 0;

export function failCommands(
  client: S3Client | SQSClient | SNSClient,
  commandName: string,
  shouldFail: (input: Record<string, unknown>) => boolean = () => true,
): void {
  installed += 1;
  (client as S3Client).middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === commandName && shouldFail(args.input as Record<string, unknown>)) {
        throw Object.assign(new Error(`injected failure of ${commandName}`), {
          name: 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
        });
      }
      return next(args);
    },
    { step: 'initialize', name: `injected-fault-${installed}` },
  );
}
