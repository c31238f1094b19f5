import { ComfyNodeError, type HeritageError, InternalError } from '../../../../contracts/errors.js';
import type { RunResult } from './comfy-client.js';
import { executionErrorFrom, interruptedErrorFrom } from './comfy-errors.js';
import {
  type ExecutionError,
  ExecutionErrorSchema,
  ExecutionInterruptedSchema,
  type HistoryEntry,
} from './comfy-messages.js';

/**
 * What a finished prompt's history entry means. The entry's status is the record (execution.py:1112
 * task_done); an execution_error seen on the socket stands in only where history has no status.
 */
export function promptOutcome(
  promptId: string,
  entry: HistoryEntry,
  socketError: ExecutionError | undefined,
): RunResult | HeritageError {
  try {
    const status = entry.status;
    if (status === null || status === undefined || status.status_str === 'success') {
      if (socketError !== undefined && status?.status_str !== 'success')
        return executionErrorFrom(socketError);
      return { promptId, outputs: entry.outputs };
    }
    for (const [event, data] of status.messages) {
      if (event === 'execution_error') return executionErrorFrom(ExecutionErrorSchema.parse(data));
      if (event === 'execution_interrupted')
        return interruptedErrorFrom(ExecutionInterruptedSchema.parse(data));
    }
    if (socketError !== undefined) return executionErrorFrom(socketError);
    return new ComfyNodeError(`ComfyUI ended prompt ${promptId} with status ${status.status_str}`, {
      details: { messages: status.messages.map(([event]) => event) },
    });
  } catch (error) {
    return new InternalError(
      `ComfyUI's history entry for prompt ${promptId} has a shape this worker cannot read`,
      {
        cause: error,
        details: { prompt_id: promptId },
      },
    );
  }
}
