/**
 * ComfyUI's API format, as a workflow is written in it and as ComfyUI describes its nodes
 * (/object_info). The workflow code renders and checks prompts in these terms; the ComfyUI client
 * sends them. Defined here so that the workflow needs nothing from the client.
 */
import { z } from 'zod';

/** A ComfyUI API-format prompt: node id -> {class_type, inputs}. Links are [node id, output index]. */
export type ApiPrompt = Record<string, ApiNode>;
export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  /** As parsed from a workflow file, where an absent key and `undefined` read the same. */
  _meta?: { title?: string | undefined } | undefined;
}

/** server.py:627-637 `get_object_info` / `node_info`: one entry per node class. */
export const NodeInfoSchema = z
  .object({
    input: z
      .object({
        required: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
        optional: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
        hidden: z.record(z.string(), z.unknown()).optional(),
      })
      .loose(),
    output: z.array(z.unknown()),
    output_name: z.array(z.string()).optional(),
    name: z.string().optional(),
  })
  .loose();
export type NodeInfo = z.infer<typeof NodeInfoSchema>;
export const ObjectInfoSchema = z.record(z.string(), NodeInfoSchema);
export type ObjectInfo = z.infer<typeof ObjectInfoSchema>;
