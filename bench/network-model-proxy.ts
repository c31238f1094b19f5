/**
 * A network model for benchmarks: a loopback HTTP proxy in front of the local emulator that makes it
 * behave like S3 over a real network instead of loopback.
 *
 * - Latency: every response's first byte waits until `latencyMs` after the request body has arrived
 *   (S3's time to first byte is typically 10-40 ms for small objects in-region; the default is 25 ms).
 * - Bandwidth: each client connection is capped at `bytesPerSecond` in each direction, with a token
 *   bucket per socket (S3 sustains roughly 85-100 MB/s per connection; the default is 90 MB/s).
 *   Parallel connections each get their own cap, as on S3, so parallelism pays as it does there.
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface NetworkModel {
  /** Endpoint to give SDK clients instead of the upstream one. */
  endpoint: string;
  close(): Promise<void>;
}

export interface NetworkModelOptions {
  upstream: string;
  latencyMs?: number;
  bytesPerSecond?: number;
  port?: number;
}

export const S3_LIKE = { latencyMs: 25, bytesPerSecond: 90 * 1024 * 1024 } as const;

/** Bursts up to this much time's worth of bytes before pacing, so timers of ~1 ms granularity keep up. */
const BURST_MS = 4;

/** Paces bytes through one connection in one direction: a token bucket kept as "next free time". */
class Pacer {
  private freeAt = 0;
  constructor(private readonly bytesPerSecond: number) {}

  async take(bytes: number): Promise<void> {
    const now = performance.now();
    this.freeAt = Math.max(now, this.freeAt) + (bytes * 1000) / this.bytesPerSecond;
    const ahead = this.freeAt - now - BURST_MS;
    if (ahead > 0) await sleep(ahead);
  }
}

function paced(pacer: Pacer): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      pacer.take(chunk.length).then(
        () => callback(null, chunk),
        (error: unknown) => callback(error as Error),
      );
    },
  });
}

interface SocketPacers {
  inbound: Pacer;
  outbound: Pacer;
}

export async function startNetworkModelProxy(options: NetworkModelOptions): Promise<NetworkModel> {
  const upstream = new URL(options.upstream);
  const latencyMs = options.latencyMs ?? S3_LIKE.latencyMs;
  const bytesPerSecond = options.bytesPerSecond ?? S3_LIKE.bytesPerSecond;
  const pacers = new WeakMap<Socket, SocketPacers>();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });

  function pacersOf(socket: Socket): SocketPacers {
    let found = pacers.get(socket);
    if (found === undefined) {
      found = { inbound: new Pacer(bytesPerSecond), outbound: new Pacer(bytesPerSecond) };
      pacers.set(socket, found);
    }
    return found;
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const { inbound, outbound } = pacersOf(req.socket);
    let bodyDoneAt = performance.now();
    const out = request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: { ...req.headers, host: upstream.host }, agent },
      (upstreamRes) => {
        const wait = bodyDoneAt + latencyMs - performance.now();
        const respond = (): void => {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(paced(outbound)).pipe(res);
        };
        if (wait > 0) setTimeout(respond, wait);
        else respond();
      },
    );
    out.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`network model: ${error.message}`);
    });
    const body = req.pipe(paced(inbound));
    body.on('end', () => {
      bodyDoneAt = performance.now();
    });
    body.pipe(out);
  }

  const server = createServer(handle);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
