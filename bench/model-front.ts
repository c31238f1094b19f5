/**
 * A front for the local stack that serves one bucket from a directory, as S3 serves the model bucket:
 * HeadObject, and GetObject with a byte Range, for path-style keys `/<bucket>/<key>` → `<dir>/<key>`.
 * Every other request (the request bucket, SQS, SNS) is passed to the emulator unchanged.
 *
 * It exists for the managed-start benchmark: a 37 GB model set does not belong in the emulator's
 * memory, and the provisioner must be fed at S3-like rates to measure the worker, not the emulator.
 * `threads` servers share one port (SO_REUSEPORT) so that the store side is not one event loop.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface ModelFrontOptions {
  /** The emulator everything else goes to, e.g. http://127.0.0.1:4566. */
  upstream: string;
  bucket: string;
  dir: string;
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
}

/** `bytes=a-b` or `bytes=a-` within a file of `size` bytes; undefined when absent or unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (match === null) return undefined;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start <= end ? { start, end } : undefined;
}

async function serveObject(
  options: ModelFrontOptions,
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const root = resolve(options.dir);
  const path = resolve(root, decodeURIComponent(key));
  if (!path.startsWith(root + sep)) return s3Error(res, 403, 'AccessDenied', 'key leaves the bucket');
  const info = await stat(path).catch(() => undefined);
  if (info === undefined || !info.isFile())
    return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
  const headers = {
    'content-type': 'application/octet-stream',
    'last-modified': info.mtime.toUTCString(),
    etag: `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
    'accept-ranges': 'bytes',
  };
  const range = req.headers.range === undefined ? undefined : parseRange(req.headers.range, info.size);
  if (req.headers.range !== undefined && range === undefined) {
    return s3Error(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
  }
  const { start, end } = range ?? { start: 0, end: info.size - 1 };
  res.writeHead(range === undefined ? 200 : 206, {
    ...headers,
    'content-length': String(end - start + 1),
    ...(range === undefined ? {} : { 'content-range': `bytes ${start}-${end}/${info.size}` }),
  });
  if (req.method === 'HEAD') return res.end();
  createReadStream(path, { start, end, highWaterMark: 4 << 20 }).pipe(res);
}

function proxy(upstream: URL, req: IncomingMessage, res: ServerResponse): void {
  const forward = httpRequest(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  forward.on('error', (error) => s3Error(res, 502, 'BadGateway', error.message));
  req.pipe(forward);
}

/** One server on `port` (0: any); with reusePort, several of them share it. */
export function serveModelFront(
  options: ModelFrontOptions,
  port: number,
): Promise<{ port: number; close: () => Promise<void> }> {
  const upstream = new URL(options.upstream);
  const prefix = `/${options.bucket}/`;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (
      (req.method === 'GET' || req.method === 'HEAD') &&
      path.startsWith(prefix) &&
      path.length > prefix.length
    ) {
      serveObject(options, path.slice(prefix.length), req, res).catch((error: Error) =>
        s3Error(res, 500, 'InternalError', error.message),
      );
      return;
    }
    proxy(upstream, req, res);
  });
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, reusePort: true }, () => {
      const address = server.address();
      resolvePort({
        port: typeof address === 'object' && address !== null ? address.port : port,
        close: () =>
          new Promise<void>((closed) => {
            server.closeAllConnections();
            server.close(() => closed());
          }),
      });
    });
  });
}

export interface ModelFront {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the front on this thread and `threads - 1` more (model-front-thread.mjs beside the running
 * entry point, or the .ts source under tsx), all on one port. Resolves with the front's endpoint.
 */
export async function startModelFront(options: ModelFrontOptions, threads = 1): Promise<ModelFront> {
  const main = await serveModelFront(options, 0);
  const port = main.port;
  const workers: Worker[] = [];
  const here = new URL(import.meta.url);
  const threadEntry = here.pathname.endsWith('.ts')
    ? new URL('./model-front-thread.ts', here)
    : new URL('./model-front-thread.mjs', here);
  for (let i = 1; i < threads; i++) {
    const worker = new Worker(threadEntry, { workerData: { options, port } });
    workers.push(worker);
    await new Promise((ready, fail) => {
      worker.once('message', ready);
      worker.once('error', fail);
    });
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      await Promise.all(workers.map((worker) => worker.terminate()));
      await main.close();
    },
  };
}
