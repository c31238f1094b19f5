/** Relays one SQS query-protocol request to the emulator in its JSON protocol (sqs-query-protocol.ts). */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { jsonToQueryXml, queryErrorXml, queryToJson } from './sqs-query-protocol.js';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One SQS query-protocol request, answered through the emulator's JSON protocol. */
export async function relaySqsQuery(upstream: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { action, body } = queryToJson(new URLSearchParams(await readBody(req)));
  const payload = JSON.stringify(body);
  const answer = await new Promise<{ status: number; body: string; queryError: string | undefined }>(
    (resolve, rejectAnswer) => {
      const out = request(
        new URL('/', upstream),
        {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': `AmazonSQS.${action}`,
            'content-length': Buffer.byteLength(payload),
            authorization: req.headers.authorization ?? '',
          },
        },
        (upstreamRes) => {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamRes.on('end', () => {
            const queryError = upstreamRes.headers['x-amzn-query-error'];
            resolve({
              status: upstreamRes.statusCode ?? 502,
              body: Buffer.concat(chunks).toString('utf8'),
              queryError: Array.isArray(queryError) ? queryError[0] : queryError,
            });
          });
          upstreamRes.on('error', rejectAnswer);
        },
      );
      out.on('error', rejectAnswer);
      out.end(payload);
    },
  );
  const json = (answer.body === '' ? {} : JSON.parse(answer.body)) as Record<string, never>;
  const requestId = randomUUID();
  const xml =
    answer.status < 300
      ? jsonToQueryXml(action, json, requestId)
      : queryErrorXml(json, answer.queryError, requestId);
  res.writeHead(answer.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}
