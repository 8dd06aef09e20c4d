// Phase 10: one verdict per check, from the build check (6), the tests (7), lint (8) and docs (9).
// With `strict`, a failing check fails the phase (and so holds the run for a retry).

import { runPhase, fail } from './lib/handoff.mjs';

await runPhase({ needs: [6, 7, 8, 9] }, async (phase) => {
  const strict = phase.setting('strict', false);
  const maxListed = phase.setting('max_listed', 10);
  const build = phase.output(6).context;
  const tests = phase.output(7).context;
  const lint = phase.output(8).context;
  const docs = phase.output(9).context;
  const buildDetail = phase.readJson(6, 'build_check');
  const lintDetail = phase.readJson(8, 'lint_report');
  const docsDetail = phase.readJson(9, 'docs_report');

  const checks = [
    {
      name: 'build',
      status: build.unresolved > 0 ? 'fail' : 'pass',
      summary: `${build.resolved}/${build.checked} relative imports resolve`,
      findings: buildDetail.unresolved.slice(0, maxListed).map((u) => `${u.from}: ${u.specifier} (${u.reason})`),
    },
    {
      name: 'tests',
      status: tests.test_files_with_unresolved_imports > 0 ? 'fail' : tests.test_cases === 0 ? 'warn' : 'pass',
      summary: `${tests.test_cases} cases (${tests.skipped_cases} skipped) in ${tests.test_files} files, ` +
        `${tests.test_files_with_unresolved_imports} with unresolved imports; ` +
        `tests import ${tests.modules_imported_by_tests} of ${tests.source_modules} modules`,
      findings: [],
    },
    {
      name: 'lint',
      status: lint.issues > 0 ? 'warn' : 'pass',
      summary: `${lint.issues} issues in ${lint.files_with_issues} of ${lint.files_checked} files`,
      findings: lintDetail.files.slice(0, maxListed).map((file) => `${file.path}: ${file.count} issues`),
    },
    {
      name: 'docs',
      status: docs.broken_links > 0 ? 'warn' : 'pass',
      summary: `${docs.broken_links} broken of ${docs.relative_links} relative links in ${docs.docs} documents`,
      findings: docsDetail.docs
        .flatMap((doc) => doc.broken.map((link) => `${doc.path}:${link.line}: ${link.target} (${link.reason})`))
        .slice(0, maxListed),
    },
  ];
  const count = (status) => checks.filter((check) => check.status === status).length;
  const status = count('fail') > 0 ? 'fail' : count('warn') > 0 ? 'warn' : 'pass';

  phase.writeJsonArtifact('integration_report', 'integration_report.json', {
    status,
    checks,
    refactor_notes_stale: build.refactor_notes_stale,
  });
  if (strict && status === 'fail') {
    const failed = checks.filter((check) => check.status === 'fail');
    fail(`checks failed: ${failed.map((check) => `${check.name} (${check.summary})`).join('; ')}`);
  }
  return { status, passed: count('pass'), warnings: count('warn'), failures: count('fail') };
});
