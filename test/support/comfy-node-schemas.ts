/**
 * Checks an API-format ComfyUI prompt against node schemas captured from a real ComfyUI
 * (`/object_info`, committed as test/fixtures/comfyui/object_info.json). It covers what ComfyUI's own
 * validation rejects before running anything: unknown node types, missing required inputs, unknown
 * inputs, combo values outside their list, numbers outside min/max, and links to a missing node,
 * a missing output or an output of the wrong type.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const InputSpecSchema = z.tuple([z.unknown()]).rest(z.unknown());
const NodeSchemaSchema = z.object({
  input: z.object({
    required: z.record(z.string(), InputSpecSchema).default({}),
    optional: z.record(z.string(), InputSpecSchema).default({}),
  }),
  output: z.array(z.union([z.string(), z.array(z.unknown())])),
});
export const ObjectInfoSchema = z.record(z.string(), NodeSchemaSchema);
export type ObjectInfo = z.infer<typeof ObjectInfoSchema>;

const PromptNodeSchema = z.object({ class_type: z.string(), inputs: z.record(z.string(), z.unknown()) });
export const ApiPromptSchema = z.record(z.string().regex(/^\d+$/), PromptNodeSchema);
export type ApiPrompt = z.infer<typeof ApiPromptSchema>;

const LinkSchema = z.tuple([z.string(), z.number().int().nonnegative()]);

export function loadObjectInfo(path: string): ObjectInfo {
  return ObjectInfoSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
}

function typeOfSpec(spec: readonly unknown[]): string | readonly unknown[] {
  const head = spec[0];
  return Array.isArray(head) ? head : String(head);
}

function checkValue(where: string, spec: readonly unknown[], value: unknown): string[] {
  const type = typeOfSpec(spec);
  const options = (spec[1] ?? {}) as { min?: number; max?: number };
  if (Array.isArray(type)) {
    return type.includes(value)
      ? []
      : [`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(type)}`];
  }
  if (type === 'INT' || type === 'FLOAT') {
    if (typeof value !== 'number' || (type === 'INT' && !Number.isInteger(value))) {
      return [`${where}: expected ${type}, got ${JSON.stringify(value)}`];
    }
    const errors: string[] = [];
    if (options.min !== undefined && value < options.min)
      errors.push(`${where}: ${value} < min ${options.min}`);
    if (options.max !== undefined && value > options.max)
      errors.push(`${where}: ${value} > max ${options.max}`);
    return errors;
  }
  if (type === 'BOOLEAN') return typeof value === 'boolean' ? [] : [`${where}: expected BOOLEAN`];
  if (type === 'STRING') return typeof value === 'string' ? [] : [`${where}: expected STRING`];
  return [`${where}: input of type ${type} must be a link to another node`];
}

/** Every problem ComfyUI's prompt validation would report for this prompt; empty when it passes. */
export function validatePrompt(prompt: ApiPrompt, objectInfo: ObjectInfo): string[] {
  const errors: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    const schema = objectInfo[node.class_type];
    if (!schema) {
      errors.push(`node ${id}: unknown node type ${node.class_type}`);
      continue;
    }
    const specs = { ...schema.input.optional, ...schema.input.required };
    for (const name of Object.keys(schema.input.required)) {
      if (!(name in node.inputs))
        errors.push(`node ${id} (${node.class_type}): missing required input ${name}`);
    }
    for (const [name, value] of Object.entries(node.inputs)) {
      const where = `node ${id} (${node.class_type}).${name}`;
      const spec = specs[name];
      if (!spec) {
        errors.push(`${where}: not an input of ${node.class_type}`);
        continue;
      }
      const link = LinkSchema.safeParse(value);
      if (!link.success) {
        errors.push(...checkValue(where, spec, value));
        continue;
      }
      const [sourceId, slot] = link.data;
      const source = prompt[sourceId];
      const sourceSchema = source ? objectInfo[source.class_type] : undefined;
      const produced = sourceSchema?.output[slot];
      if (!source || !sourceSchema) {
        errors.push(`${where}: links to missing node ${sourceId}`);
      } else if (produced === undefined) {
        errors.push(`${where}: node ${sourceId} has no output ${slot}`);
      } else if (typeof produced === 'string' && produced !== typeOfSpec(spec) && typeOfSpec(spec) !== '*') {
        errors.push(
          `${where}: expects ${String(typeOfSpec(spec))}, node ${sourceId} output ${slot} is ${produced}`,
        );
      }
    }
  }
  return errors;
}
