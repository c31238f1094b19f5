/**
 * The WorkerLog port backed by Powertools' Logger: one JSON object per line on stdout, the shape the
 * Lambdas' logs have, so that one Logs Insights query reads both (docs/observability.md).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { WorkerLog } from './log.js';

export function createWorkerLog(serviceName: string): WorkerLog {
  const logger = new Logger({ serviceName });
  return {
    info: (message, extra = {}) => logger.info(message, extra),
    warn: (message, extra = {}) => logger.warn(message, extra),
    error: (message, extra = {}) => logger.error(message, extra),
    setRequestId: (requestId) => {
      if (requestId === undefined) logger.removeKeys(['request_id']);
      else logger.appendKeys({ request_id: requestId });
    },
  };
}
