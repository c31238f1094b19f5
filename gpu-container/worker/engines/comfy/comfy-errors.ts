import {
  ComfyNodeError,
  ComfyValidationError,
  EngineInterruptedError,
  GpuOutOfMemoryError,
} from '../../../../contracts/errors.js';
import type { ExecutionError, ExecutionInterrupted, NodeErrors, PromptRejected } from './comfy-messages.js';

export const OUT_OF_MEMORY_HINT = 'lower resolution or frame_length and send the request again';

/**
 * One readable line per validation problem, e.g.
 * `node 14 (KSamplerAdvanced) input steps: Value 0 smaller than min of 1`.
 */
export function nodeErrorLines(nodeErrors: NodeErrors): string[] {
  const lines: string[] = [];
  for (const [nodeId, node] of Object.entries(nodeErrors)) {
    for (const problem of node.errors) {
      const inputName = problem.extra_info?.input_name;
      const where = typeof inputName === 'string' ? ` input ${inputName}` : '';
      const details = problem.details && problem.details !== inputName ? ` (${problem.details})` : '';
      lines.push(`node ${nodeId} (${node.class_type})${where}: ${problem.message}${details}`);
    }
  }
  return lines;
}

/** A 400 from POST /prompt: the workflow does not fit the ComfyUI it was sent to. */
export function validationErrorFrom(rejected: PromptRejected): ComfyValidationError {
  const summary = typeof rejected.error === 'string' ? rejected.error : rejected.error.message;
  const lines = nodeErrorLines(rejected.node_errors);
  // Prompt-level problems (no outputs, unknown node class) carry their reason in `details`.
  if (lines.length === 0 && typeof rejected.error !== 'string' && rejected.error.details) {
    lines.push(rejected.error.details);
  }
  return new ComfyValidationError([`ComfyUI rejected the workflow: ${summary}`, ...lines].join('\n'), {
    details: {
      error_type: typeof rejected.error === 'string' ? undefined : rejected.error.type,
      lines,
      node_errors: compactNodeErrors(rejected.node_errors),
    },
  });
}

function compactNodeErrors(nodeErrors: NodeErrors): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(nodeErrors).map(([nodeId, node]) => [
      nodeId,
      {
        class_type: node.class_type,
        errors: node.errors.map((problem) => ({
          type: problem.type,
          message: problem.message,
          details: problem.details,
          input_name: problem.extra_info?.input_name,
        })),
      },
    ]),
  );
}

/**
 * torch raises torch.OutOfMemoryError (full_type_name at execution.py:960 gives "torch.OutOfMemoryError",
 * older torch "torch.cuda.OutOfMemoryError"); its message starts "CUDA out of memory" or, from the
 * caching allocator, "Allocation on device".
 */
export function isOutOfMemory(error: Pick<ExecutionError, 'exception_type' | 'exception_message'>): boolean {
  return (
    /OutOfMemoryError/.test(error.exception_type) ||
    /CUDA out of memory|Allocation on device|out of memory/i.test(error.exception_message)
  );
}

/** An execution_error: which node failed and why; out of memory gets its own code and a hint. */
export function executionErrorFrom(error: ExecutionError): ComfyNodeError | GpuOutOfMemoryError {
  const exceptionMessage = error.exception_message.trim();
  const details = {
    node_id: error.node_id,
    node_type: error.node_type,
    exception_type: error.exception_type,
    exception_message: exceptionMessage,
    traceback: (error.traceback ?? []).slice(-5),
  };
  if (isOutOfMemory(error)) {
    return new GpuOutOfMemoryError(
      `GPU out of memory in node ${error.node_id} (${error.node_type}): ${OUT_OF_MEMORY_HINT}`,
      { details: { ...details, hint: OUT_OF_MEMORY_HINT } },
    );
  }
  const firstLine = exceptionMessage.split('\n')[0] ?? '';
  return new ComfyNodeError(
    `node ${error.node_id} (${error.node_type}) failed: ${error.exception_type}: ${firstLine}`,
    { details },
  );
}

export function interruptedErrorFrom(event: ExecutionInterrupted): EngineInterruptedError {
  return new EngineInterruptedError(
    `ComfyUI interrupted the prompt at node ${event.node_id} (${event.node_type})`,
    {
      details: { node_id: event.node_id, node_type: event.node_type },
    },
  );
}
