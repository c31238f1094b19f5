/**
 * A fault-injecting HTTP proxy for the local stack: it sits in front of the emulator endpoint and answers
 * chosen S3, SQS or SNS calls with the error bodies the real services send (500 InternalError, 503
 * SlowDown, throttling), so the SDK's retry and our own error handling are exercised over the wire.
 * A `hold` fault parks a matching call until the test releases it: that is how a worker is killed at an
 * exact point (during a frame upload, after result.json but before its event).
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Service = 's3' | 'sqs' | 'sns';
/** `access-denied` answers as S3 does when IAM refuses a call (403 AccessDenied). */
export type FaultKind = 'internal-error' | 'throttle' | 'access-denied' | 'hold';

export interface FaultRule {
  service: Service;
  /** S3: "PUT" / "GET" / "HEAD"; SQS: the X-Amz-Target action (e.g. "SendMessage"); SNS: the Action. */
  operation?: string;
  /** S3 only: the object key must match. */
  key?: RegExp;
  /** S3 only: true matches ranged GETs only (dispatch's header probes), false whole-object ones only. */
  ranged?: boolean;
  kind: FaultKind;
  /** Fault this many matching calls, then let them through. */
  times: number;
}

/** A call parked by a `hold` fault. */
export interface HeldCall {
  service: Service;
  operation: string;
  key?: string;
  /** Forwards the call if its client is still connected; a killed client's call is dropped. */
  release(): void;
}

export interface FaultProxy {
  endpoint: string;
  inject(rule: FaultRule): void;
  /** Calls parked by `hold` faults and not released yet. */
  held(): HeldCall[];
  /** How many faults were injected, by service and kind. */
  injected(): Record<string, number>;
  close(): Promise<void>;
}

interface Classified {
  service: Service;
  operation: string;
  key?: string;
  ranged?: boolean;
}

function classify(req: IncomingMessage, body: Buffer): Classified {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    return { service: 'sqs', operation: target.slice('AmazonSQS.'.length) };
  }
  const contentType = req.headers['content-type'] ?? '';
  if (
    req.method === 'POST' &&
    req.url?.split('?')[0] === '/' &&
    contentType.includes('x-www-form-urlencoded')
  ) {
    const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? '';
    return { service: 'sns', operation: action };
  }
  const path = new URL(req.url ?? '/', 'http://proxy').pathname;
  const key = decodeURIComponent(path.split('/').slice(2).join('/'));
  return { service: 's3', operation: req.method ?? 'GET', key, ranged: req.headers.range !== undefined };
}

function faultResponse(
  service: Service,
  kind: Exclude<FaultKind, 'hold'>,
): { status: number; type: string; body: string } {
  if (kind === 'access-denied') {
    return {
      status: 403,
      type: 'application/xml',
      body: '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    };
  }
  if (service === 's3') {
    return kind === 'throttle'
      ? {
          status: 503,
          type: 'application/xml',
          body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        }
      : {
          status: 500,
          type: 'application/xml',
          body: '<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>',
        };
  }
  if (service === 'sqs') {
    return kind === 'throttle'
      ? {
          status: 400,
          type: 'application/x-amz-json-1.0',
          body: '{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}',
        }
      : {
          status: 500,
          type: 'application/x-amz-json-1.0',
          body: '{"__type":"com.amazonaws.sqs#InternalError","message":"internal error"}',
        };
  }
  const code = kind === 'throttle' ? 'Throttling' : 'InternalFailure';
  const status = kind === 'throttle' ? 400 : 500;
  return {
    status,
    type: 'text/xml',
    body: `<ErrorResponse><Error><Type>${status === 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
  };
}

export async function startFaultProxy(upstreamEndpoint: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  const rules: FaultRule[] = [];
  const counts: Record<string, number> = {};
  const parked = new Set<HeldCall>();

  function matching(call: Classified): FaultRule | undefined {
    return rules.find(
      (rule) =>
        rule.times > 0 &&
        rule.service === call.service &&
        (rule.operation === undefined || rule.operation === call.operation) &&
        (rule.key === undefined || (call.key !== undefined && rule.key.test(call.key))) &&
        (rule.ranged === undefined || rule.ranged === call.ranged),
    );
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const call = classify(req, body);
      const rule = matching(call);
      if (rule !== undefined) {
        rule.times -= 1;
        const name = `${call.service}:${rule.kind}`;
        counts[name] = (counts[name] ?? 0) + 1;
        if (rule.kind === 'hold') {
          const held: HeldCall = {
            ...call,
            release: () => {
              parked.delete(held);
              if (res.destroyed || req.socket.destroyed) return;
              forward(req, res, body);
            },
          };
          parked.add(held);
          return;
        }
        const fault = faultResponse(call.service, rule.kind);
        res.writeHead(fault.status, {
          'content-type': fault.type,
          'content-length': Buffer.byteLength(fault.body),
        });
        res.end(fault.body);
        return;
      }
      forward(req, res, body);
    });
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const out = request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(error.message);
    });
    out.end(body);
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    inject: (rule) => {
      if (rule.kind === 'access-denied' && rule.service !== 's3') {
        throw new Error('access-denied faults are modelled for S3 only');
      }
      rules.push({ ...rule });
    },
    injected: () => ({ ...counts }),
    held: () => [...parked],
    close: () =>
      new Promise<void>((resolve) => {
        for (const call of [...parked]) parked.delete(call);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
