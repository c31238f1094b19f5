/**
 * Publishes JSON Schemas of the wire contracts from their zod sources, so clients in any language can
 * validate manifests and events. `npm run schemas` writes docs/schemas/; a test fails when they are stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CompletionEventSchema } from './event.js';
import { LegacyRequestSchema, ManifestSchema } from './manifest.js';
import { ResultSchema } from './result.js';
import { StatusSchema } from './status.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../docs/schemas/', import.meta.url));

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, text] of Object.entries(renderSchemas())) {
    writeFileSync(join(SCHEMA_DIR, name), text);
    console.log(`wrote docs/schemas/${name}`);
  }
}
