// Phase 2: the import graph of the repository's JavaScript and TypeScript files.

import { builtinModules } from 'node:module';
import { runPhase } from './lib/handoff.mjs';
import { importCandidates, isRelativeSpecifier, readInventory, readRepoText, SCRIPT_EXTENSIONS } from './lib/repo.mjs';

// `import x from 'm'`, `import 'm'`, `export { x } from 'm'`, `import type { T } from 'm'`
const STATIC_IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?[\s}*]from\s*)?['"]([^'"\n]+)['"]/g;
// `import('m')`, `require('m')`
const CALL_IMPORT = /\b(?:import|require)\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g;
const BUILTINS = new Set(builtinModules);

await runPhase({ needs: [0] }, async (phase) => {
  const extensions = phase.setting('extensions', SCRIPT_EXTENSIONS);
  const repo = phase.repo;
  const modules = readInventory(phase).filter((file) => extensions.includes(file.ext)).map((file) => file.path);
  const known = new Set(modules);

  const edges = [];
  const packages = {};
  let missing = 0;
  for (const from of modules) {
    const text = readRepoText(repo, from);
    if (text === null) {
      missing += 1;
      continue;
    }
    for (const specifier of importSpecifiers(text)) {
      const kind = kindOf(specifier);
      const edge = { from, specifier, kind };
      if (kind === 'relative') edge.to = importCandidates(from, specifier).find((rel) => known.has(rel)) ?? null;
      if (kind === 'package') packages[packageName(specifier)] = (packages[packageName(specifier)] ?? 0) + 1;
      edges.push(edge);
    }
  }

  const relative = edges.filter((edge) => edge.kind === 'relative');
  phase.writeJsonArtifact('import_graph', 'import_graph.json', { modules, edges, packages });
  return {
    modules: modules.length,
    edges: edges.length,
    relative_edges: relative.length,
    unmatched_relative: relative.filter((edge) => edge.to === null).length,
    external_packages: Object.keys(packages).length,
    missing_files: missing,
  };
});

/** Distinct specifiers in a file, ignoring whole-line comments. */
function importSpecifiers(text) {
  const code = text
    .split('\n')
    .map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? '' : line))
    .join('\n');
  const found = new Set();
  for (const pattern of [STATIC_IMPORT, CALL_IMPORT]) {
    for (const match of code.matchAll(pattern)) found.add(match[1]);
  }
  return [...found];
}

function kindOf(specifier) {
  if (isRelativeSpecifier(specifier)) return 'relative';
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return 'builtin';
  if (specifier.startsWith('/')) return 'absolute';
  return 'package';
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
