// Phase 4: combine the analysis (1), the import graph (2) and the duplicates (3) into a ranked list
// of consolidation candidates: shared code to extract, long files to split, import cycles to
// break, modules nothing imports.

import { runPhase } from './lib/handoff.mjs';
import { table } from './lib/markdown.mjs';
import { isTestFile, SCRIPT_EXTENSIONS } from './lib/repo.mjs';

await runPhase({ needs: [0, 1, 2, 3] }, async (phase) => {
  const settings = {
    minDuplicateLines: phase.setting('min_duplicate_lines', 6),
    splitLines: phase.setting('split_file_lines', 400),
    libraryRoots: phase.setting('library_roots', ['src/']),
    entryPoints: phase.setting('entry_points', ['/index.', '/main.', 'src/workers/', 'src/workflows/']),
    testPatterns: phase.setting('test_patterns', ['.test.', '.spec.', '/tests/', '/__tests__/']),
    maxCandidates: phase.setting('max_candidates', 25),
    priorityScores: phase.setting('priority_scores', { P1: 80, P2: 30 }),
  };
  const analysis = phase.readJson(1, 'analysis');
  const graph = phase.readJson(2, 'import_graph');
  const duplicates = phase.readJson(3, 'duplicates');

  const candidates = [
    ...duplicateCandidates(duplicates.blocks, settings),
    ...splitCandidates(analysis.long_files, settings),
    ...cycleCandidates(graph),
    ...orphanCandidates(graph, settings),
  ]
    .sort((a, b) => b.score - a.score || a.title.localeCompare(b.title))
    .slice(0, settings.maxCandidates)
    .map((candidate, index) => ({
      id: `C${index + 1}`,
      priority: priorityOf(candidate.score, settings.priorityScores),
      ...candidate,
    }));

  const inputs = {
    files: phase.output(0).context.files,
    lines: phase.output(1).context.total_lines,
    modules: phase.output(2).context.modules,
    import_edges: phase.output(2).context.edges,
    duplicate_blocks: phase.output(3).context.duplicate_blocks,
  };
  phase.writeJsonArtifact('candidates', 'candidates.json', { inputs, candidates });
  phase.writeArtifact('consolidation_plan', 'consolidation_plan.md', renderPlan(inputs, candidates));

  const count = (key, value) => candidates.filter((candidate) => candidate[key] === value).length;
  return {
    candidates: candidates.length,
    by_priority: { P1: count('priority', 'P1'), P2: count('priority', 'P2'), P3: count('priority', 'P3') },
    by_kind: Object.fromEntries(['duplicate', 'split', 'cycle', 'orphan'].map((kind) => [kind, count('kind', kind)])),
    top: candidates[0]?.title ?? null,
  };
});

/** One candidate per pair of files sharing code, scored by the lines they share. */
function duplicateCandidates(blocks, { minDuplicateLines }) {
  const byPair = new Map();
  for (const block of blocks.filter((b) => b.lines >= minDuplicateLines)) {
    const key = `${block.a.path}\n${block.b.path}`;
    if (!byPair.has(key)) byPair.set(key, []);
    byPair.get(key).push(block);
  }
  return [...byPair.values()].map((pairBlocks) => {
    const { a, b } = pairBlocks[0];
    const lines = pairBlocks.reduce((sum, block) => sum + block.lines, 0);
    const where = a.path === b.path ? `within ${a.path}` : `between ${a.path} and ${b.path}`;
    return {
      kind: 'duplicate',
      score: lines * 3,
      title: `Extract the ${lines} duplicated lines ${where}`,
      files: [...new Set([a.path, b.path])],
      blocks: pairBlocks,
    };
  });
}

function splitCandidates(longFiles, { splitLines }) {
  return longFiles
    .filter((file) => SCRIPT_EXTENSIONS.includes(file.ext) && file.lines > splitLines)
    .map((file) => ({
      kind: 'split',
      score: Math.round((file.lines - splitLines) / 4) + 20,
      title: `Split ${file.path} (${file.lines} lines, over ${splitLines})`,
      files: [file.path],
    }));
}

/** Import cycles: strongly connected components of more than one module (Tarjan). */
function cycleCandidates(graph) {
  const next = new Map(graph.modules.map((module) => [module, []]));
  for (const edge of graph.edges) if (edge.to && edge.to !== edge.from) next.get(edge.from)?.push(edge.to);
  const order = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (module) => {
    order.set(module, order.size);
    low.set(module, order.get(module));
    stack.push(module);
    onStack.add(module);
    for (const target of next.get(module) ?? []) {
      if (!order.has(target)) {
        visit(target);
        low.set(module, Math.min(low.get(module), low.get(target)));
      } else if (onStack.has(target)) {
        low.set(module, Math.min(low.get(module), order.get(target)));
      }
    }
    if (low.get(module) === order.get(module)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== module);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const module of graph.modules) if (!order.has(module)) visit(module);
  return components.map((modules) => ({
    kind: 'cycle',
    score: 40 * modules.length,
    title: `Break the import cycle between ${modules.join(', ')}`,
    files: modules,
  }));
}

/** Library modules nothing imports: dead code, or an entry point the plan should name. */
function orphanCandidates(graph, { libraryRoots, entryPoints, testPatterns }) {
  const imported = new Set(graph.edges.map((edge) => edge.to).filter(Boolean));
  return graph.modules
    .filter((module) => libraryRoots.some((root) => module.startsWith(root)))
    .filter((module) => !imported.has(module) && !isTestFile(module, testPatterns))
    .filter((module) => !entryPoints.some((pattern) => `/${module}`.includes(pattern)))
    .map((module) => ({
      kind: 'orphan',
      score: 10,
      title: `Check whether ${module} is still used (no module imports it)`,
      files: [module],
    }));
}

function priorityOf(score, { P1, P2 }) {
  if (score >= P1) return 'P1';
  return score >= P2 ? 'P2' : 'P3';
}

function renderPlan(inputs, candidates) {
  const parts = [
    '# Consolidation plan\n',
    `From ${inputs.files} files (${inputs.lines} lines), ${inputs.modules} modules with ` +
      `${inputs.import_edges} imports; duplicated blocks: ${inputs.duplicate_blocks}.\n`,
    table(
      ['#', 'Priority', 'Kind', 'Candidate', 'Score'],
      candidates.map((c) => [c.id, c.priority, c.kind, c.title, c.score]),
    ),
  ];
  for (const candidate of candidates) {
    parts.push(`## ${candidate.id}: ${candidate.title}\n`);
    parts.push(`Priority ${candidate.priority}, score ${candidate.score}.\n`);
    parts.push(`Files: ${candidate.files.map((file) => `\`${file}\``).join(', ')}\n`);
    const blocks = (candidate.blocks ?? []).map((block) =>
      `- ${block.lines} lines: ${block.a.path}:${block.a.start}-${block.a.end} = ` +
      `${block.b.path}:${block.b.start}-${block.b.end}`);
    if (blocks.length > 0) parts.push(`${blocks.join('\n')}\n`);
  }
  return parts.join('\n');
}
