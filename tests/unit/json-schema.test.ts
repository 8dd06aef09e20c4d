import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFor, SCHEMA_FILES } from '../../src/core/api/json-schema.js';

describe('committed JSON Schemas', () => {
  for (const name of Object.keys(SCHEMA_FILES) as Array<keyof typeof SCHEMA_FILES>) {
    it(`schema/${name} matches the zod schema (run \`npm run schema\` after changing it)`, async () => {
      const committed = JSON.parse(await readFile(new URL(`../../schema/${name}`, import.meta.url), 'utf8'));
      expect(committed).toEqual(jsonSchemaFor(name));
    });
  }

  it('each compiles as draft 2020-12 with Ajv in strict mode, as an agent might use it', () => {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): unknown };
    const addFormats = require('ajv-formats') as (a: unknown) => void;
    for (const name of Object.keys(SCHEMA_FILES) as Array<keyof typeof SCHEMA_FILES>) {
      const ajv = new Ajv2020({ strict: true, allErrors: true });
      addFormats(ajv);
      expect(() => ajv.compile(jsonSchemaFor(name)), name).not.toThrow();
    }
  });

  it('describes every field of the guide\'s package', () => {
    const schema = jsonSchemaFor('handoff-package.schema.json') as { required: string[] };
    for (const field of ['execution_id', 'from_phase', 'to_phase', 'previous_phase_context', 'dependency_contexts', 'shared_artifacts', 'global_context', 'state_summary', 'execution_instructions', 'phase_config']) {
      expect(schema.required).toContain(field);
    }
  });
});
