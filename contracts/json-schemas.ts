/**
 * JSON Schemas of the wire contracts, rendered from their zod sources, so clients in any language can
 * validate manifests and events. `npm run schemas` (cli/write-schemas.ts) writes them to docs/schemas/;
 * a test fails when those files are stale.
 */
import { z } from 'zod';
import { CompletionEventSchema } from './event.js';
import { StatusSchema } from './lifecycle/status.js';
import { LegacyRequestSchema, ManifestSchema } from './manifest.js';
import { ResultSchema } from './result.js';

/** File name -> JSON text. Manifests are described as clients write them (defaults optional). */
export function renderSchemas(): Record<string, string> {
  const schemas = {
    'manifest.v1.schema.json': z.toJSONSchema(ManifestSchema, { io: 'input' }),
    'legacy-request.schema.json': z.toJSONSchema(LegacyRequestSchema, { io: 'input' }),
    'completion-event.v1.schema.json': z.toJSONSchema(CompletionEventSchema, { io: 'output' }),
    'result.v1.schema.json': z.toJSONSchema(ResultSchema, { io: 'output' }),
    'status.v1.schema.json': z.toJSONSchema(StatusSchema, { io: 'output' }),
  };
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [name, `${JSON.stringify(schema, null, 2)}\n`]),
  );
}
