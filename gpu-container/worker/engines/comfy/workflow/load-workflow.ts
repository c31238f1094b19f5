import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { WorkflowInvalidError } from '../../../../../contracts/errors.js';
import { validateWorkflow } from './validate-workflow.js';
import { type Bindings, BindingsSchema, type Template, TemplateSchema } from './workflow-schema.js';

export const DEFAULT_WORKFLOW = 'wan22-flf2v-rife';

/** A template plus its bindings, checked for structure when loaded. */
export interface Workflow {
  name: string;
  dir: string;
  template: Template;
  bindings: Bindings;
  /** sha256 over workflow.json, a newline and bindings.json as stored; result.json records it. */
  sha256: string;
}

/** gpu-container/workflows, found from this source file; a bundled worker passes its own root. */
export function defaultWorkflowsDir(): string {
  return fileURLToPath(new URL('../../../../workflows/', import.meta.url));
}

/**
 * Reads `<root>/<name>/workflow.json` and `bindings.json`. An operator adds a workflow by adding such a
 * folder; nothing else changes. Throws WorkflowInvalidError naming the file and every problem found.
 */
export async function loadWorkflow(options: { name: string; root?: string }): Promise<Workflow> {
  const dir = join(options.root ?? defaultWorkflowsDir(), options.name);
  const templateText = await readText(join(dir, 'workflow.json'));
  const bindingsText = await readText(join(dir, 'bindings.json'));
  const template = parseFile(templateText, 'workflow.json', TemplateSchema);
  const bindings = parseFile(bindingsText, 'bindings.json', BindingsSchema);
  if (bindings.name !== options.name) {
    throw new WorkflowInvalidError(
      `bindings.json names workflow ${bindings.name} but lives in folder ${options.name}`,
    );
  }
  const workflow: Workflow = {
    name: bindings.name,
    dir,
    template,
    bindings,
    sha256: createHash('sha256').update(templateText).update('\n').update(bindingsText).digest('hex'),
  };
  validateWorkflow(workflow);
  return workflow;
}

/** What result.json records about the workflow that produced it (ResultSchema.workflow). */
export function workflowRecord(workflow: Workflow): { name: string; sha256: string } {
  return { name: workflow.name, sha256: workflow.sha256 };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new WorkflowInvalidError(`cannot read ${path}`, { cause: error, details: { path } });
  }
}

function parseFile<T extends z.ZodType>(text: string, file: string, schema: T): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new WorkflowInvalidError(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new WorkflowInvalidError([`${file} is invalid:`, ...problems.map((p) => `- ${p}`)].join('\n'), {
      details: { file, problems },
    });
  }
  return parsed.data;
}
