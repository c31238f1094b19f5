/**
 * A loopback HTTP gateway in front of the fauxqs emulator that adds S3 conditional requests
 * (PutObject If-None-Match: * and If-Match, GetObject If-Match), which fauxqs accepts but ignores.
 * Heritage's exactly-once claim and its pinned inputs depend on them, so the local stack must honour
 * them as S3 does (412 PreconditionFailed). SQS requests in the query protocol, which the emulator does
 * not serve, are translated to its JSON protocol and back (sqs-query-protocol.ts). Everything else,
 * SNS included, passes through unchanged.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSqsQueryRequest } from './sqs-query-protocol.js';
import { relaySqsQuery } from './sqs-query-relay.js';

export interface Gateway {
  endpoint: string;
  close(): Promise<void>;
}

const PRECONDITION_FAILED_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
const NO_SUCH_KEY_XML =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';

function headUpstream(upstream: URL, path: string): Promise<{ status: number; etag?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, upstream), { method: 'HEAD' }, (res) => {
      res.resume();
      const etag = res.headers.etag;
      resolve({ status: res.statusCode ?? 0, ...(etag === undefined ? {} : { etag }) });
    });
    req.on('error', reject);
    req.end();
  });
}

function forward(upstream: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const headers = { ...req.headers, host: upstream.host };
    const out = request(new URL(req.url ?? '/', upstream), { method: req.method, headers }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
      upstreamRes.on('end', () => resolve());
      upstreamRes.on('error', () => resolve());
    });
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`gateway: ${error.message}`);
      resolve();
    });
    req.pipe(out);
  });
}

function reject(res: ServerResponse, req: IncomingMessage, status: number, xml: string): void {
  req.resume();
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function isConditionalObjectPut(req: IncomingMessage): boolean {
  if (req.method !== 'PUT') return false;
  if (req.headers['if-none-match'] === undefined && req.headers['if-match'] === undefined) return false;
  const url = new URL(req.url ?? '/', 'http://gateway');
  // Plain PutObject only: /bucket/key, no sub-resource such as ?uploadId or ?tagging (the SDK adds x-id).
  const subresources = [...url.searchParams.keys()].filter((name) => name !== 'x-id');
  return subresources.length === 0 && url.pathname.split('/').length > 2;
}

function isConditionalObjectGet(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || req.headers['if-match'] === undefined) return false;
  return new URL(req.url ?? '/', 'http://gateway').pathname.split('/').length > 2;
}

async function conditionalGet(upstream: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const current = await headUpstream(upstream, new URL(req.url ?? '/', 'http://gateway').pathname);
  if (current.status !== 200) return reject(res, req, 404, NO_SUCH_KEY_XML);
  if (req.headers['if-match'] !== '*' && req.headers['if-match'] !== current.etag) {
    return reject(res, req, 412, PRECONDITION_FAILED_XML);
  }
  await forward(upstream, req, res);
}

export async function startConditionalWriteGateway(upstreamEndpoint: string, port = 0): Promise<Gateway> {
  const upstream = new URL(upstreamEndpoint);
  // Writes to one key run one at a time, so check-then-write is atomic as S3's own conditional write is.
  const keyLocks = new Map<string, Promise<void>>();

  async function conditionalPut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    const previous = keyLocks.get(path) ?? Promise.resolve();
    let release = (): void => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => mine);
    keyLocks.set(path, chained);
    await previous;
    try {
      const current = await headUpstream(upstream, path);
      const exists = current.status === 200;
      const ifNoneMatch = req.headers['if-none-match'];
      const ifMatch = req.headers['if-match'];
      if (ifNoneMatch === '*' && exists) return reject(res, req, 412, PRECONDITION_FAILED_XML);
      if (ifMatch !== undefined && !exists) return reject(res, req, 404, NO_SUCH_KEY_XML);
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== current.etag) {
        return reject(res, req, 412, PRECONDITION_FAILED_XML);
      }
      await forward(upstream, req, res);
    } finally {
      release();
      if (keyLocks.get(path) === chained) keyLocks.delete(path);
    }
  }

  const server = createServer((req, res) => {
    const work = isConditionalObjectPut(req)
      ? conditionalPut(req, res)
      : isConditionalObjectGet(req)
        ? conditionalGet(upstream, req, res)
        : req.method === 'POST' && isSqsQueryRequest(req.headers)
          ? relaySqsQuery(upstream, req, res)
          : forward(upstream, req, res);
    work.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`gateway: ${(error as Error).message}`);
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
