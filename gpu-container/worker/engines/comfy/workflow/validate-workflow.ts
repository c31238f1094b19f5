import { WorkflowInvalidError } from '../../../../../contracts/errors.js';
import type { ApiPrompt, NodeInfo, ObjectInfo } from './api-prompt.js';
import { type Bindings, type BindingTarget, isLink, type Template } from './workflow-schema.js';

/** Every `node.input` that a binding sets, as "node:input". */
export function boundInputs(bindings: Bindings): Set<string> {
  const keys = new Set<string>();
  for (const targets of Object.values(bindings.bindings)) {
    for (const target of targets ?? []) keys.add(`${target.node}:${target.input}`);
  }
  return keys;
}

/** Problems that need no ComfyUI to find: dangling links, cycles, bindings to missing nodes or inputs. */
export function structureProblems(template: Template, bindings: Bindings): string[] {
  const problems: string[] = [];
  for (const [nodeId, node] of Object.entries(template)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (isLink(value) && template[value[0]] === undefined) {
        problems.push(`node ${nodeId} (${node.class_type}) input ${input} links to missing node ${value[0]}`);
      }
    }
  }
  const cycle = findCycle(template);
  if (cycle !== undefined) problems.push(`links form a cycle: ${cycle.join(' -> ')}`);

  const literal = (target: BindingTarget, what: string) => {
    const node = template[target.node];
    if (node === undefined) return problems.push(`${what} binds missing node ${target.node}`);
    if (!(target.input in node.inputs)) {
      return problems.push(
        `${what} binds node ${target.node} (${node.class_type}) input ${target.input}, which it lacks`,
      );
    }
    if (isLink(node.inputs[target.input])) {
      problems.push(`${what} binds node ${target.node} input ${target.input}, which is a link, not a value`);
    }
  };
  for (const [field, targets] of Object.entries(bindings.bindings)) {
    for (const target of targets ?? []) literal(target, `binding ${field}`);
  }
  if (template[bindings.output.node] === undefined) {
    problems.push(`output node ${bindings.output.node} is missing`);
  }
  const interpolation = bindings.interpolation;
  if (interpolation !== undefined) {
    const node = template[interpolation.node];
    if (node === undefined) problems.push(`interpolation node ${interpolation.node} is missing`);
    else if (!isLink(node.inputs[interpolation.frames_input])) {
      problems.push(
        `interpolation node ${interpolation.node} input ${interpolation.frames_input} is not a link`,
      );
    }
  }
  if (bindings.bindings.multiplier !== undefined && interpolation === undefined) {
    problems.push('binding multiplier needs an interpolation section that says how to bypass the node');
  }
  const literals = new Set(Object.values(template).flatMap((node) => Object.values(node.inputs)));
  for (const model of bindings.models) {
    if (!literals.has(model.file)) problems.push(`model ${model.file} is listed but no node loads it`);
  }
  return problems;
}

function findCycle(template: Template): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (nodeId: string, path: string[]): string[] | undefined => {
    if (state.get(nodeId) === 'done') return undefined;
    if (state.get(nodeId) === 'visiting') return [...path, nodeId];
    state.set(nodeId, 'visiting');
    for (const value of Object.values(template[nodeId]?.inputs ?? {})) {
      if (!isLink(value) || template[value[0]] === undefined) continue;
      const cycle = visit(value[0], [...path, nodeId]);
      if (cycle !== undefined) return cycle;
    }
    state.set(nodeId, 'done');
    return undefined;
  };
  for (const nodeId of Object.keys(template)) {
    const cycle = visit(nodeId, []);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

/**
 * Checks a prompt against what a running ComfyUI reports in /object_info: node classes installed,
 * required inputs given, no unknown inputs, links from an existing output of the right type, and
 * literal values inside their limits and choices (which also proves the model files are installed).
 * `skip` ("node:input") names inputs whose value is set later, at render time.
 */
export function objectInfoProblems(
  prompt: ApiPrompt,
  objectInfo: ObjectInfo,
  skip = new Set<string>(),
): string[] {
  const problems: string[] = [];
  for (const [nodeId, node] of Object.entries(prompt)) {
    const where = `node ${nodeId} (${node.class_type})`;
    const info = objectInfo[node.class_type];
    if (info === undefined) {
      problems.push(
        `${where}: ComfyUI has no node class ${node.class_type}; is its custom node pack installed?`,
      );
      continue;
    }
    const required = info.input.required ?? {};
    const optional = info.input.optional ?? {};
    for (const name of Object.keys(required)) {
      if (!(name in node.inputs)) problems.push(`${where}: required input ${name} is missing`);
    }
    for (const [name, value] of Object.entries(node.inputs)) {
      const spec = required[name] ?? optional[name];
      if (spec === undefined) {
        problems.push(`${where}: ComfyUI knows no input ${name}`);
        continue;
      }
      const problem = isLink(value)
        ? linkProblem(value, spec[0], prompt, objectInfo)
        : skip.has(`${nodeId}:${name}`)
          ? undefined
          : valueProblem(value, spec);
      if (problem !== undefined) problems.push(`${where} input ${name}: ${problem}`);
    }
  }
  return problems;
}

function linkProblem(
  [source, slot]: [string, number],
  inputType: unknown,
  prompt: ApiPrompt,
  objectInfo: ObjectInfo,
): string | undefined {
  const sourceNode = prompt[source];
  if (sourceNode === undefined) return `links to missing node ${source}`;
  const sourceInfo: NodeInfo | undefined = objectInfo[sourceNode.class_type];
  if (sourceInfo === undefined) return undefined; // reported for the source node itself
  if (slot >= sourceInfo.output.length) {
    return `links to output ${slot} of node ${source} (${sourceNode.class_type}), which has ${sourceInfo.output.length}`;
  }
  const outputType = sourceInfo.output[slot];
  if (typeof inputType !== 'string' || typeof outputType !== 'string') return undefined;
  // execution.py validate_node_input: "*" matches anything, and "A,B" is a union of types.
  if (inputType === '*' || outputType === '*') return undefined;
  const accepted = new Set(inputType.split(','));
  if (outputType.split(',').some((type) => accepted.has(type))) return undefined;
  return `takes ${inputType} but node ${source} output ${slot} is ${outputType}`;
}

function valueProblem(value: unknown, spec: unknown[]): string | undefined {
  const [type, rawOptions] = spec;
  const options = (typeof rawOptions === 'object' && rawOptions !== null ? rawOptions : {}) as Record<
    string,
    unknown
  >;
  const choices = Array.isArray(type) ? type : type === 'COMBO' ? options.options : undefined;
  if (Array.isArray(choices)) {
    if (choices.includes(value)) return undefined;
    const shown = choices.length > 8 ? `${choices.slice(0, 8).join(', ')}, …` : choices.join(', ');
    return `${JSON.stringify(value)} is not one of ${shown || '(nothing installed)'}`;
  }
  switch (type) {
    case 'INT':
    case 'FLOAT': {
      if (typeof value !== 'number' || (type === 'INT' && !Number.isInteger(value))) {
        return `${JSON.stringify(value)} is not ${type === 'INT' ? 'an integer' : 'a number'}`;
      }
      if (typeof options.min === 'number' && value < options.min)
        return `${value} is below the minimum ${options.min}`;
      if (typeof options.max === 'number' && value > options.max)
        return `${value} is above the maximum ${options.max}`;
      return undefined;
    }
    case 'BOOLEAN':
      return typeof value === 'boolean' ? undefined : `${JSON.stringify(value)} is not a boolean`;
    case 'STRING':
      return typeof value === 'string' ? undefined : `${JSON.stringify(value)} is not a string`;
    default:
      return `${JSON.stringify(value)} is a value, but the input takes ${String(type)} from a link`;
  }
}

/** Throws WorkflowInvalidError listing every problem; checks /object_info too when it is given. */
export function validateWorkflow(
  workflow: { template: Template; bindings: Bindings },
  objectInfo?: ObjectInfo,
): void {
  const problems = structureProblems(workflow.template, workflow.bindings);
  if (objectInfo !== undefined && problems.length === 0) {
    problems.push(...objectInfoProblems(workflow.template, objectInfo, boundInputs(workflow.bindings)));
  }
  if (problems.length > 0) {
    throw new WorkflowInvalidError(
      [`workflow ${workflow.bindings.name} is invalid:`, ...problems.map((p) => `- ${p}`)].join('\n'),
      { details: { workflow: workflow.bindings.name, problems } },
    );
  }
}
