/**
 * Parses a deployable's environment once, failing fast with the name of every bad variable: the one
 * parser of the Lambdas (the config.ts of each function) and the worker (gpu-container/worker/config.ts and its
 * managed ComfyUI settings).
 */

import type { z } from 'zod';
import { ConfigInvalidError } from './errors.js';

export function parseEnvironment<T extends z.ZodType>(
  deployable: string,
  schema: T,
  env: Record<string, string | undefined>,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigInvalidError(`${deployable}: invalid environment: ${problems.join('; ')}`, {
    details: { variables: parsed.error.issues.map((issue) => issue.path.join('.')), problems },
  });
}
