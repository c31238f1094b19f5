/**
 * SQS's query protocol on the local stack, as older clients (AWS CLI 2.9, Debian 12's package) speak
 * it: form-encoded requests signed for sqs, XML answers, answered through the emulator's JSON protocol.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../support/emulator.js';

const SIGNED_FOR_SQS =
  'AWS4-HMAC-SHA256 Credential=heritage-local/20261124/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0';

describe('the local stack, to a client of the SQS query protocol', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  async function query(params: Record<string, string>): Promise<{ status: number; xml: string }> {
    const response = await fetch(emulator.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        authorization: SIGNED_FOR_SQS,
      },
      body: new URLSearchParams({ Version: '2012-11-05', ...params }),
    });
    return { status: response.status, xml: await response.text() };
  }

  it('creates a queue with attributes, finds its URL and receives what was sent to it', async () => {
    // Prepare
    const created = await query({
      Action: 'CreateQueue',
      QueueName: 'query-events',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '45',
    });
    const url = /<QueueUrl>(.*?)<\/QueueUrl>/.exec(created.xml)?.[1] ?? '';
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"a": "<b> & c"}' }));

    // Act
    const found = await query({ Action: 'GetQueueUrl', QueueName: 'query-events' });
    const attributes = await query({ Action: 'GetQueueAttributes', QueueUrl: url, 'AttributeName.1': 'All' });
    const received = await query({
      Action: 'ReceiveMessage',
      QueueUrl: url,
      MaxNumberOfMessages: '10',
      WaitTimeSeconds: '1',
    });

    // Assess
    expect(created.status).toBe(200);
    expect(created.xml).toContain('<CreateQueueResponse');
    expect(found.xml).toContain(`<GetQueueUrlResult><QueueUrl>${url}</QueueUrl></GetQueueUrlResult>`);
    expect(attributes.xml).toContain(
      '<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>',
    );
    expect(received.xml).toMatch(/<ReceiveMessageResult><Message><MessageId>[^<]+<\/MessageId>/);
    expect(received.xml).toContain('<Body>{&#34;a&#34;: &#34;&#60;b&#62; &#38; c&#34;}</Body>');
  });

  it("answers an error with the query protocol's code and the emulator's status", async () => {
    // Act
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'no-such-queue' });

    // Assess
    expect(missing.status).toBe(400);
    expect(missing.xml).toContain('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
    expect(missing.xml).toContain('<Type>Sender</Type>');
  });
});
