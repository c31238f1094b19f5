/**
 * The WorkerLog port backed by Powertools' Logger: one JSON object per line on stdout, the shape the
 * Lambdas' logs have, so that one Logs Insights query reads both (docs/observability.md).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { WorkerLog } from './log.js';

export function createWorkerLog(serviceName: string): WorkerLog {
  return wrap(new Logger({ serviceName }));
}

function wrap(logger: Logger): WorkerLog {
  return {
    info: (message, extra = {}) => logger.info(message, extra),
    warn: (message, extra = {}) => logger.warn(message, extra),
    error: (message, extra = {}) => logger.error(message, extra),
    setRequestId: (requestId) => {
      if (requestId === undefined) logger.removeKeys(['request_id']);
      else logger.appendKeys({ request_id: requestId });
    },
    forRequest: (requestId) => {
      const child = logger.createChild();
      // The parent's id (the request on the GPU) may be copied over: this one replaces it, for good.
      child.removeKeys(['request_id']);
      child.appendPersistentKeys({ request_id: requestId });
      return wrap(child);
    },
  };
}
