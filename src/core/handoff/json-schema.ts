/**
 * The package's JSON Schema, generated from the zod schema so the two cannot drift:
 * agents in any language validate packages with it. `npm run schema` writes it to
 * `schema/`, and a test fails when the committed copy is stale.
 */
import { z } from 'zod';
import { HandoffPackageSchema, PhaseOutputFileSchema } from './schema.js';

export const SCHEMA_FILES = {
  'handoff-package.schema.json': { schema: HandoffPackageSchema, title: 'Baton handoff package' },
  'phase-output.schema.json': { schema: PhaseOutputFileSchema, title: 'Baton phase output (BATON_OUTPUT)' },
} as const;

export function jsonSchemaFor(name: keyof typeof SCHEMA_FILES): Record<string, unknown> {
  const { schema, title } = SCHEMA_FILES[name];
  return { title, ...z.toJSONSchema(schema, { io: 'input' }) };
}
