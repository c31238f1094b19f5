/** EventPublisher over SNS: the JSON event as the body, `type` and `status` as message attributes. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type CompletionEvent, CompletionEventSchema, eventAttributes } from '../../contracts/event.js';
import type { EventPublisher } from '../../contracts/ports.js';

export class SnsEventPublisher implements EventPublisher {
  constructor(
    private readonly sns: SNSClient,
    readonly topicArn: string,
  ) {}

  async publish(event: CompletionEvent): Promise<void> {
    const body = CompletionEventSchema.parse(event);
    const attributes = eventAttributes(body);
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Message: JSON.stringify(body),
        MessageAttributes: {
          type: { DataType: 'String', StringValue: attributes.type },
          status: { DataType: 'String', StringValue: attributes.status },
        },
      }),
    );
  }
}
