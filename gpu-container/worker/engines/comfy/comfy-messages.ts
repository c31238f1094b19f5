import { z } from 'zod';

/**
 * The shapes of what ComfyUI sends, parsed where it enters the worker.
 *
 * Source: Comfy-Org/ComfyUI at commit a125cd84b054a57729b5eecab930ca9408719832 (2025-10-12), the commit the
 * container pins. File and line references below are to that commit. Objects are parsed loosely
 * (`.loose()`) so that fields added by later ComfyUI versions pass through; the fields we read are strict.
 */
export const COMFYUI_SOURCE_COMMIT = 'a125cd84b054a57729b5eecab930ca9408719832';

/** server.py:543 `system_stats`. */
export const SystemStatsSchema = z
  .object({
    system: z
      .object({
        comfyui_version: z.string().optional(),
        python_version: z.string().optional(),
        pytorch_version: z.string().optional(),
      })
      .loose(),
    devices: z.array(
      z
        .object({
          name: z.string(),
          type: z.string(),
          vram_total: z.number().optional(),
          vram_free: z.number().optional(),
        })
        .loose(),
    ),
  })
  .loose();
export type SystemStats = z.infer<typeof SystemStatsSchema>;

/**
 * One validation problem. execution.py:725-958 `validate_inputs` and :966-1075 `validate_prompt` build these
 * dicts: {type, message, details, extra_info}; extra_info carries `input_name` for input problems.
 */
export const PromptProblemSchema = z
  .object({
    type: z.string(),
    message: z.string(),
    details: z.string().optional(),
    extra_info: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export type PromptProblem = z.infer<typeof PromptProblemSchema>;

/** execution.py:1044-1052: node_errors[node_id] = {errors, dependent_outputs, class_type}. */
export const NodeErrorsSchema = z.record(
  z.string(),
  z
    .object({
      errors: z.array(PromptProblemSchema),
      dependent_outputs: z.array(z.string()).optional(),
      class_type: z.string(),
    })
    .loose(),
);
export type NodeErrors = z.infer<typeof NodeErrorsSchema>;

/** server.py:674-720 `post_prompt`, 200: {prompt_id, number, node_errors}. */
export const PromptAcceptedSchema = z
  .object({ prompt_id: z.string(), number: z.number(), node_errors: NodeErrorsSchema })
  .loose();
export type PromptAccepted = z.infer<typeof PromptAcceptedSchema>;

/** server.py:674-720 `post_prompt`, 400: {error, node_errors}; older versions sent `error` as a string. */
export const PromptRejectedSchema = z
  .object({ error: z.union([PromptProblemSchema, z.string()]), node_errors: NodeErrorsSchema.default({}) })
  .loose();
export type PromptRejected = z.infer<typeof PromptRejectedSchema>;

/** server.py:316-362 `image_upload`: {name, subfolder, type}. */
export const UploadedImageSchema = z
  .object({ name: z.string(), subfolder: z.string(), type: z.string() })
  .loose();
export type UploadedImage = z.infer<typeof UploadedImageSchema>;

/** nodes.py:1561-1608 SaveImage returns ui.images = [{filename, subfolder, type}]. */
export const ImageRefSchema = z
  .object({ filename: z.string(), subfolder: z.string(), type: z.string() })
  .loose();
export type ImageRef = z.infer<typeof ImageRefSchema>;

/** execution.py:620-647 `handle_execution_error`, sent over the socket and kept in history messages. */
export const ExecutionErrorSchema = z
  .object({
    prompt_id: z.string(),
    node_id: z.string(),
    node_type: z.string(),
    executed: z.array(z.string()).optional(),
    exception_message: z.string(),
    exception_type: z.string(),
    traceback: z.array(z.string()).optional(),
    // A dict of formatted inputs; execution.py:486 sends [] for a blocked execution.
    current_inputs: z.unknown().optional(),
    current_outputs: z.unknown().optional(),
  })
  .loose();
export type ExecutionError = z.infer<typeof ExecutionErrorSchema>;

/** execution.py:626-633: an interrupt carries no exception. */
export const ExecutionInterruptedSchema = z
  .object({
    prompt_id: z.string(),
    node_id: z.string(),
    node_type: z.string(),
    executed: z.array(z.string()).optional(),
  })
  .loose();
export type ExecutionInterrupted = z.infer<typeof ExecutionInterruptedSchema>;

/**
 * execution.py:1107-1110 ExecutionStatus and :1112-1134 `task_done`: history[prompt_id] =
 * {prompt, outputs, status: {status_str, completed, messages: [[event, data], ...]}, meta}.
 * The entry appears only after the prompt finished, whether it succeeded or not.
 */
export const HistoryEntrySchema = z
  .object({
    outputs: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
    status: z
      .object({
        status_str: z.enum(['success', 'error']),
        completed: z.boolean(),
        messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
      })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** server.py:661-664 `get_history_prompt_id`: {<prompt_id>: entry}, or {} while it has not finished. */
export const HistoryResponseSchema = z.record(z.string(), HistoryEntrySchema);

/** server.py:666-672 `get_queue`: items are (number, prompt_id, prompt, extra_data, outputs_to_execute). */
export const QueueSchema = z
  .object({
    queue_running: z.array(z.array(z.unknown())),
    queue_pending: z.array(z.array(z.unknown())),
  })
  .loose();
export type Queue = z.infer<typeof QueueSchema>;

// What /object_info answers is the workflow's vocabulary: defined beside the workflow, which it checks.
export { type NodeInfo, NodeInfoSchema, type ObjectInfo, ObjectInfoSchema } from './workflow/api-prompt.js';

/** server.py:936-945 `send_json` (binary frames: :844-852 `send`): every text frame is {type, data}. Binary frames are previews. */
export const SocketEnvelopeSchema = z.object({ type: z.string(), data: z.unknown() });

/**
 * The socket events the client follows. executing: execution.py:452 {node, display_node, prompt_id};
 * main.py:204 sends {node: null, prompt_id} after history is written; server.py:207-209 sends {node}
 * alone to a reconnecting client. progress: main.py:261 {value, max, prompt_id, node}.
 * execution_start / execution_success: execution.py:660, :706 via add_message (adds `timestamp`).
 */
export const ExecutingSchema = z
  .object({
    node: z.string().nullable(),
    display_node: z.string().optional(),
    prompt_id: z.string().optional(),
  })
  .loose();
export const ProgressSchema = z
  .object({
    value: z.number(),
    max: z.number(),
    prompt_id: z.string().nullable().optional(),
    node: z.string().nullable().optional(),
  })
  .loose();
export const PromptEventSchema = z.object({ prompt_id: z.string() }).loose();

export type SocketEvent =
  | { type: 'executing'; data: z.infer<typeof ExecutingSchema> }
  | { type: 'progress'; data: z.infer<typeof ProgressSchema> }
  | { type: 'execution_start' | 'execution_success'; data: z.infer<typeof PromptEventSchema> }
  | { type: 'execution_error'; data: ExecutionError }
  | { type: 'execution_interrupted'; data: ExecutionInterrupted }
  | { type: 'other'; name: string };

const EVENT_SCHEMAS = {
  executing: ExecutingSchema,
  progress: ProgressSchema,
  execution_start: PromptEventSchema,
  execution_success: PromptEventSchema,
  execution_error: ExecutionErrorSchema,
  execution_interrupted: ExecutionInterruptedSchema,
} as const;

/** Parses one text frame. Unknown event types (status, progress_state, executed, ...) come back as 'other'. */
export function parseSocketEvent(text: string): SocketEvent {
  const envelope = SocketEnvelopeSchema.parse(JSON.parse(text));
  const schema = EVENT_SCHEMAS[envelope.type as keyof typeof EVENT_SCHEMAS];
  if (schema === undefined) return { type: 'other', name: envelope.type };
  return { type: envelope.type, data: schema.parse(envelope.data) } as SocketEvent;
}
