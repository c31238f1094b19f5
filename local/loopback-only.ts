/**
 * Keeps a server that insists on 0.0.0.0 on loopback. fauxqs 2.4 listens on every interface and has no
 * option to say otherwise; the local stack must be reachable from this machine only, like the gateway
 * in front of it. While `start` runs, a listen on 0.0.0.0 (or ::) is made on 127.0.0.1 instead.
 * test/cli/local-up.test.ts checks every listening socket of the local stack.
 */
import { type ListenOptions, Server } from 'node:net';

const ANY = new Set(['0.0.0.0', '::']);
let active = 0;
const original = Server.prototype.listen;

function toLoopback(this: Server, ...args: unknown[]): Server {
  const [first, second] = args;
  if (typeof first === 'object' && first !== null && ANY.has(String((first as ListenOptions).host))) {
    args[0] = { ...(first as ListenOptions), host: '127.0.0.1' };
  } else if (typeof first === 'number' && typeof second === 'string' && ANY.has(second)) {
    args[1] = '127.0.0.1';
  }
  return (original as (...a: unknown[]) => Server).apply(this, args);
}

export async function onLoopback<T>(start: () => Promise<T>): Promise<T> {
  active += 1;
  Server.prototype.listen = toLoopback as typeof Server.prototype.listen;
  try {
    return await start();
  } finally {
    active -= 1;
    if (active === 0) Server.prototype.listen = original;
  }
}
