// Writes schema/*.schema.json from the zod schemas (run after `npm run build`).
import { mkdir, writeFile } from 'node:fs/promises';
import { jsonSchemaFor, SCHEMA_FILES } from '../dist/core/api/json-schema.js';

await mkdir(new URL('../schema', import.meta.url), { recursive: true });
for (const name of Object.keys(SCHEMA_FILES)) {
  await writeFile(new URL(`../schema/${name}`, import.meta.url), `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`);
  console.log(`schema/${name}`);
}
