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
  /** SQS and SNS: the request body must match (an SNS Publish names its request in the message). */
  body?: RegExp;
  kind: FaultKind;
  /** Fault this many matching calls, then let them through. */
  times: number;
}

/** A call parked by a `hold` fault. */
export interface HeldCall {
  service: Service;
  operation: string;
  key?: string;
  /** The call's body as text (SQS and SNS; empty for S3, whose bodies are data). */
  body: string;
  /** Resolves when the client gave the call up (aborted it, or exited) while it was held. */
  abandoned: Promise<void>;
  /** Forwards the call if its client is still connected; a killed client's call is dropped. */
  release(): void;
}

/** A call the proxy forwarded and its answer: when each went by (ms since the epoch). */
export interface ForwardedCall {
  service: Service;
  operation: string;
  key?: string;
  /** SNS only: the form-encoded body (it names the request); empty otherwise. */
  body: string;
  status: number;
  sentAt: number;
  answeredAt: number;
}

/** An injected rule: how often it fired, so a drill can prove that its fault really happened. */
export interface InjectedRule {
  fired(): number;
  /** Stops the rule from matching (an outage that ends). */
  remove(): void;
}

export interface FaultProxy {
  endpoint: string;
  inject(rule: FaultRule): InjectedRule;
  /** Calls parked by `hold` faults and not released yet. */
  held(): HeldCall[];
  /** How many faults were injected, by service and kind. */
  injected(): Record<string, number>;
  /** Every call forwarded to the emulator and answered, in the order the answers ended. */
  forwarded(): ForwardedCall[];
  close(): Promise<void>;
}

interface Classified {
  service: Service;
  operation: string;
  key?: string;
  ranged?: boolean;
  body: string;
}

interface ActiveRule extends FaultRule {
  fired: number;
}

function classify(req: IncomingMessage, body: Buffer): Classified {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    return { service: 'sqs', operation: target.slice('AmazonSQS.'.length), body: body.toString('utf8') };
  }
  const contentType = req.headers['content-type'] ?? '';
  if (
    req.method === 'POST' &&
    req.url?.split('?')[0] === '/' &&
    contentType.includes('x-www-form-urlencoded')
  ) {
    const text = body.toString('utf8');
    const action = new URLSearchParams(text).get('Action') ?? '';
    return { service: 'sns', operation: action, body: text };
  }
  const path = new URL(req.url ?? '/', 'http://proxy').pathname;
  const key = decodeURIComponent(path.split('/').slice(2).join('/'));
  return {
    service: 's3',
    operation: req.method ?? 'GET',
    key,
    ranged: req.headers.range !== undefined,
    body: '',
  };
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
  const rules: ActiveRule[] = [];
  const counts: Record<string, number> = {};
  const parked = new Set<HeldCall>();
  const journal: ForwardedCall[] = [];

  function matching(call: Classified): ActiveRule | undefined {
    return rules.find(
      (rule) =>
        rule.times > 0 &&
        rule.service === call.service &&
        (rule.operation === undefined || rule.operation === call.operation) &&
        (rule.key === undefined || (call.key !== undefined && rule.key.test(call.key))) &&
        (rule.ranged === undefined || rule.ranged === call.ranged) &&
        (rule.body === undefined || rule.body.test(call.body)),
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
        rule.fired += 1;
        const name = `${call.service}:${rule.kind}`;
        counts[name] = (counts[name] ?? 0) + 1;
        if (rule.kind === 'hold') {
          const abandoned = new Promise<void>((resolve) => {
            res.on('close', () => {
              if (!res.writableFinished) resolve();
            });
          });
          const held: HeldCall = {
            ...call,
            abandoned,
            release: () => {
              parked.delete(held);
              if (res.destroyed || req.socket.destroyed) return;
              forward(req, res, body, call);
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
      forward(req, res, body, call);
    });
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, call: Classified): void {
    const sentAt = Date.now();
    const out = request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host } },
      (upstreamRes) => {
        const status = upstreamRes.statusCode ?? 502;
        res.writeHead(status, upstreamRes.headers);
        upstreamRes.pipe(res);
        res.on('finish', () =>
          journal.push({
            service: call.service,
            operation: call.operation,
            ...(call.key === undefined ? {} : { key: call.key }),
            body: call.service === 'sns' ? call.body : '',
            status,
            sentAt,
            answeredAt: Date.now(),
          }),
        );
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
      const active: ActiveRule = { ...rule, fired: 0 };
      rules.push(active);
      return {
        fired: () => active.fired,
        remove: () => {
          active.times = 0;
        },
      };
    },
    injected: () => ({ ...counts }),
    forwarded: () => [...journal],
    held: () => [...parked],
    close: () =>
      new Promise<void>((resolve) => {
        for (const call of [...parked]) parked.delete(call);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
