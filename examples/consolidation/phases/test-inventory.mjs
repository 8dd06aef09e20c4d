// Phase 7: the test files, how many cases each declares, and which modules the tests reach.

import { runPhase } from './lib/handoff.mjs';
import { isTestFile, readInventory, readRepoText } from './lib/repo.mjs';

// it(…), test(…), it.only(…), test.skip(…), it.each([…])(…), test.concurrent(…)
const CASE = /(?<![\w.$])(?:it|test)((?:\.(?:only|skip|todo|concurrent|fails|each))*)\s*[(`]/g;
const SUITE = /(?<![\w.$])describe(?:\.(?:only|skip|each|concurrent|todo))*\s*[(`]/g;

await runPhase({ needs: [0, 2, 6] }, async (phase) => {
  const patterns = phase.setting('test_patterns', ['.test.', '.spec.', '/tests/', '/test/', '/__tests__/']);
  const repo = phase.repo;
  const graph = phase.readJson(2, 'import_graph');
  const buildCheck = phase.readJson(6, 'build_check');

  const files = [];
  for (const { path: rel } of readInventory(phase).filter((file) => isTestFile(file.path, patterns))) {
    const text = readRepoText(repo, rel);
    if (text === null) continue;
    const cases = [...text.matchAll(CASE)];
    files.push({
      path: rel,
      cases: cases.length,
      skipped: cases.filter((match) => /\.(skip|todo)/.test(match[1])).length,
      suites: [...text.matchAll(SUITE)].length,
    });
  }

  const testPaths = new Set(files.map((file) => file.path));
  const brokenTests = new Set(buildCheck.unresolved.map((u) => u.from).filter((from) => testPaths.has(from)));
  const reached = new Set(graph.edges
    .filter((edge) => testPaths.has(edge.from) && edge.to && !testPaths.has(edge.to))
    .map((edge) => edge.to));
  const sourceModules = graph.modules.filter((module) => !testPaths.has(module));

  phase.writeJsonArtifact('test_inventory', 'test_inventory.json', {
    files: files.sort((a, b) => b.cases - a.cases || a.path.localeCompare(b.path)),
    with_unresolved_imports: [...brokenTests].sort(),
    modules_not_imported_by_tests: sourceModules.filter((module) => !reached.has(module)),
  });
  return {
    test_files: files.length,
    test_cases: files.reduce((sum, file) => sum + file.cases, 0),
    skipped_cases: files.reduce((sum, file) => sum + file.skipped, 0),
    suites: files.reduce((sum, file) => sum + file.suites, 0),
    test_files_with_unresolved_imports: brokenTests.size,
    modules_imported_by_tests: reached.size,
    source_modules: sourceModules.length,
  };
});
