import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMA_DIR } from '../../cli/write-schemas.js';
import { renderSchemas } from '../../contracts/json-schemas.js';

describe('published JSON Schemas', () => {
  it.each(Object.entries(renderSchemas()))('docs/schemas/%s matches its zod source', (name, expected) => {
    const committed = readFileSync(join(SCHEMA_DIR, name), 'utf8');
    expect(committed, `docs/schemas/${name} is stale: run npm run schemas`).toBe(expected);
  });

  it('refuses unknown manifest keys, as the parser does', () => {
    const schema = JSON.parse(renderSchemas()['manifest.v1.schema.json'] ?? '{}') as Record<string, unknown>;
    expect(schema.additionalProperties).toBe(false);
  });
});
