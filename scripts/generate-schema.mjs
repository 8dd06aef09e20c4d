// Writes schema/*.schema.json from the zod schemas, and the contract's test vectors (run after `npm run build`).
import { mkdir, writeFile } from 'node:fs/promises';
import { jsonSchemaFor, SCHEMA_FILES } from '../dist/core/api/json-schema.js';
import { contractVectors } from '../dist/runner/contract-vectors.js';

await mkdir(new URL('../schema', import.meta.url), { recursive: true });
for (const name of Object.keys(SCHEMA_FILES)) {
  await writeFile(new URL(`../schema/${name}`, import.meta.url), `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`);
  console.log(`schema/${name}`);
}

// The agent contract's test vectors (docs/agent-contract.md): the same every time, from fixed keys.
await mkdir(new URL('../schema/vectors', import.meta.url), { recursive: true });
for (const [name, value] of Object.entries(contractVectors())) {
  await writeFile(new URL(`../schema/vectors/${name}.json`, import.meta.url), `${JSON.stringify(value, null, 2)}\n`);
  console.log(`schema/vectors/${name}.json`);
}
