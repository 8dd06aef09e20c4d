// Phase 5: a dry run of the refactoring. For each candidate of phase 4's plan it writes patch notes
// (what would move where, and which importers would change) into the workdir. The repository is
// only read; `refactor_scope` fingerprints the files the notes are about, so later phases can tell
// whether they changed since.

import path from 'node:path';
import { runPhase } from './lib/handoff.mjs';
import { fence } from './lib/markdown.mjs';
import { fingerprintFiles, readRepoText } from './lib/repo.mjs';

const EXPORTED_NAME =
  /^export\s+(?:default\s+)?(?:async\s+)?(?:function\*?|class|const|let|interface|type|enum)\s+(\w+)/gm;

await runPhase({ needs: [2, 4] }, async (phase) => {
  const maxSnippetLines = phase.setting('max_snippet_lines', 20);
  const maxBlocksPerCandidate = phase.setting('max_blocks_per_candidate', 3);
  const maxListed = phase.setting('max_listed', 15);
  const { candidates } = phase.readJson(4, 'candidates');
  const graph = phase.readJson(2, 'import_graph');
  const repo = phase.repo;
  const importersOf = (module) => [...new Set(graph.edges.filter((e) => e.to === module).map((e) => e.from))];

  const sections = [];
  const affected = new Set();
  const callers = new Set();
  for (const candidate of candidates) {
    candidate.files.forEach((file) => affected.add(file));
    const lines = [`## ${candidate.id} (${candidate.priority}, ${candidate.kind}): ${candidate.title}\n`];
    if (candidate.kind === 'duplicate') {
      const target = sharedModuleFor(candidate.files);
      lines.push(`Proposed: move the shared code into \`${target}\` and call it from both places.\n`);
      for (const block of candidate.blocks.slice(0, maxBlocksPerCandidate)) {
        for (const side of [block.a, block.b]) lines.push(removalSketch(repo, side, target, maxSnippetLines));
      }
    } else {
      const [module] = candidate.files;
      const importers = candidate.kind === 'cycle' ? [] : importersOf(module);
      importers.forEach((importer) => callers.add(importer));
      lines.push(`${proposalFor(candidate, graph)}\n`);
      if (candidate.kind !== 'cycle') lines.push(`Exports: ${listed(exportsOf(repo, module), maxListed)}.\n`);
      if (importers.length > 0) {
        lines.push(`Importers to update: ${listed(importers.map((i) => `\`${i}\``), maxListed)}.\n`);
      }
    }
    sections.push(lines.join('\n'));
  }

  const header = `# Refactoring notes (dry run)\n\n${candidates.length} candidates from the consolidation plan. ` +
    'Nothing here has been applied to the repository.\n';
  phase.writeArtifact('refactor_notes', 'refactor_notes.md', [header, ...sections].join('\n'));
  const files = [...affected].sort();
  const fingerprint = fingerprintFiles(repo, files);
  phase.writeJsonArtifact('refactor_scope', 'refactor_scope.json', { files, fingerprint });
  return {
    notes: sections.length,
    files_affected: affected.size,
    importers_to_update: callers.size,
    dry_run: true,
  };
});

/** A file beside the code both copies share a directory with, e.g. `src/shared/duplicated.ts`. */
function sharedModuleFor(files) {
  const dirs = files.map((file) => path.posix.dirname(file).split('/'));
  const common = [];
  for (let i = 0; dirs.every((parts) => i < parts.length && parts[i] === dirs[0][i]); i += 1) common.push(dirs[0][i]);
  const base = common.filter((part) => part !== '.').join('/');
  return `${base ? `${base}/` : ''}shared/duplicated${path.posix.extname(files[0])}`;
}

/** A unified-diff sketch that removes a duplicated range in favour of the shared module. */
function removalSketch(repo, side, target, maxSnippetLines) {
  const text = readRepoText(repo, side.path);
  if (text === null) return `\`${side.path}\` no longer exists.\n`;
  const range = text.split('\n').slice(side.start - 1, side.end);
  const shown = range.slice(0, maxSnippetLines).map((line) => `-${line}`);
  if (range.length > maxSnippetLines) shown.push(`-… (${range.length - maxSnippetLines} more lines)`);
  const relTarget = path.posix.relative(path.posix.dirname(side.path), target);
  const specifier = relTarget.startsWith('.') ? relTarget : `./${relTarget}`;
  const diff = [
    `--- a/${side.path}`,
    `+++ b/${side.path}`,
    `@@ -${side.start},${range.length} +${side.start},1 @@`,
    ...shown,
    `+// call the helper extracted to ${specifier}`,
  ].join('\n');
  return fence(diff, 'diff');
}

function proposalFor(candidate, graph) {
  if (candidate.kind === 'split') return 'Proposed: split it by responsibility; keep its public exports re-exported.';
  if (candidate.kind === 'orphan') {
    return 'Proposed: nothing imports it. Name it as an entry point in the plan, or delete it.';
  }
  const members = new Set(candidate.files);
  const edges = graph.edges.filter((e) => members.has(e.from) && members.has(e.to)).map((e) => `${e.from} → ${e.to}`);
  return `Proposed: move what both sides need into a module of its own. Imports in the cycle:\n\n` +
    edges.map((edge) => `- ${edge}`).join('\n');
}

function exportsOf(repo, module) {
  const text = readRepoText(repo, module) ?? '';
  return [...text.matchAll(EXPORTED_NAME)].map((match) => match[1]);
}

function listed(items, max) {
  if (items.length === 0) return 'none found';
  const more = items.length > max ? `, and ${items.length - max} more` : '';
  return items.slice(0, max).join(', ') + more;
}
