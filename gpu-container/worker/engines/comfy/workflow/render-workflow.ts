import { WorkflowInvalidError } from '../../../../../contracts/errors.js';
import type { ApiPrompt } from './api-prompt.js';
import type { Workflow } from './load-workflow.js';
import { type BindingField, isLink } from './workflow-schema.js';

/** One request's values, already validated and resolved (geometry, seed). */
export interface RenderParameters {
  width: number;
  height: number;
  /** Frames Wan generates (manifest frame_length). */
  length: number;
  steps: number;
  seed: number;
  positive: string;
  negative: string;
  /** LoadImage values: the names /upload/image returned (`subfolder/name` when uploaded to a subfolder). */
  startImageName: string;
  endImageName: string;
  /** Interpolation multiplier; the workflow's bypass value (1) removes the interpolation node. */
  multiplier: number;
  /** SaveImage prefix, unique per request so that concurrent or retried runs never share files. */
  filenamePrefix: string;
}

/** The step where the low-noise expert takes over: floor(steps × ratio), kept inside [1, steps − 1]. */
export function splitStep(steps: number, ratio: number): number {
  return Math.min(Math.max(Math.floor(steps * ratio), 1), Math.max(steps - 1, 1));
}

/** Returns a new API-format prompt with every bound input set; the workflow is left untouched. */
export function renderWorkflow(workflow: Workflow, parameters: RenderParameters): ApiPrompt {
  const { bindings } = workflow;
  const prompt = structuredClone(workflow.template) as ApiPrompt;
  const values: Record<BindingField, number | string> = {
    width: parameters.width,
    height: parameters.height,
    length: parameters.length,
    steps: parameters.steps,
    split: splitStep(parameters.steps, bindings.split_ratio),
    seed: parameters.seed,
    positive_prompt: parameters.positive,
    negative_prompt: parameters.negative,
    start_image: parameters.startImageName,
    end_image: parameters.endImageName,
    multiplier: parameters.multiplier,
    filename_prefix: parameters.filenamePrefix,
  };
  const bypass = bindings.interpolation?.bypass_when_multiplier ?? 1;
  if (parameters.multiplier !== bypass && bindings.bindings.multiplier === undefined) {
    throw new WorkflowInvalidError(
      `workflow ${workflow.name} has no interpolation, so it cannot produce multiplier ${parameters.multiplier}`,
    );
  }
  for (const [field, targets] of Object.entries(bindings.bindings)) {
    for (const target of targets ?? []) {
      const node = prompt[target.node];
      if (node !== undefined) node.inputs[target.input] = values[field as BindingField];
    }
  }
  if (bindings.interpolation !== undefined && parameters.multiplier === bypass) {
    bypassNode(prompt, bindings.interpolation.node, bindings.interpolation.frames_input);
  }
  return prompt;
}

/** Removes a node and connects its consumers to the node's own source, as ComfyUI's "bypass" does. */
function bypassNode(prompt: ApiPrompt, nodeId: string, passthroughInput: string): void {
  const source = prompt[nodeId]?.inputs[passthroughInput];
  if (!isLink(source)) {
    throw new WorkflowInvalidError(`cannot bypass node ${nodeId}: input ${passthroughInput} is not a link`);
  }
  delete prompt[nodeId];
  for (const [consumerId, consumer] of Object.entries(prompt)) {
    for (const [input, value] of Object.entries(consumer.inputs)) {
      if (!isLink(value) || value[0] !== nodeId) continue;
      if (value[1] !== 0) {
        throw new WorkflowInvalidError(
          `cannot bypass node ${nodeId}: node ${consumerId} input ${input} uses its output ${value[1]}`,
        );
      }
      consumer.inputs[input] = [source[0], source[1]];
    }
  }
}
