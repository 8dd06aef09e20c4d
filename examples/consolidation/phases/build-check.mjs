// Phase 6: every relative import that phase 2 found must resolve to a file on disk. Also tells
// whether the files phase 5's notes are about changed since the notes were written.

import { statSync } from 'node:fs';
import path from 'node:path';
import { runPhase } from './lib/handoff.mjs';
import { fingerprintFiles, importCandidates } from './lib/repo.mjs';

await runPhase({ needs: [2, 5] }, async (phase) => {
  const repo = phase.repo;
  const graph = phase.readJson(2, 'import_graph');
  const scope = phase.readJson(5, 'refactor_scope');

  const unresolved = [];
  let checked = 0;
  for (const edge of graph.edges.filter((e) => e.kind === 'relative')) {
    checked += 1;
    const candidatesOnDisk = importCandidates(edge.from, edge.specifier);
    if (candidatesOnDisk[0].startsWith('../')) {
      unresolved.push({ from: edge.from, specifier: edge.specifier, reason: 'leaves the repository' });
    } else if (!isFile(path.join(repo, edge.from))) {
      unresolved.push({ from: edge.from, specifier: edge.specifier, reason: 'importing file is gone' });
    } else if (!candidatesOnDisk.some((rel) => isFile(path.join(repo, rel)))) {
      unresolved.push({ from: edge.from, specifier: edge.specifier, reason: 'no such file' });
    }
  }

  const changedSinceNotes = fingerprintFiles(repo, scope.files) !== scope.fingerprint;
  phase.writeJsonArtifact('build_check', 'build_check.json', {
    checked,
    unresolved,
    refactor_notes_stale: changedSinceNotes,
  });
  return {
    checked,
    resolved: checked - unresolved.length,
    unresolved: unresolved.length,
    refactor_notes_stale: changedSinceNotes,
  };
});

function isFile(abs) {
  try {
    return statSync(abs).isFile();
  } catch {
    return false;
  }
}
