// Phase 8: plain text checks on the repository's source and docs: trailing whitespace, tabs,
// long lines, a missing final newline.

import { runPhase } from './lib/handoff.mjs';
import { readInventory, readRepoText } from './lib/repo.mjs';

await runPhase({ needs: [0] }, async (phase) => {
  const extensions = phase.setting('extensions', ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json', '.md', '.yml', '.sh']);
  const exclude = phase.setting('exclude', ['package-lock.json']);
  const maxLineLength = phase.setting('max_line_length', 120, { min: 1 });
  const maxIssuesPerFile = phase.setting('max_issues_per_file', 20);
  const repo = phase.repo;

  const byRule = { trailing_whitespace: 0, tab: 0, long_line: 0, no_final_newline: 0 };
  const reports = [];
  let checked = 0;
  const targets = readInventory(phase)
    .filter((file) => extensions.includes(file.ext) && !exclude.some((name) => file.path.endsWith(name)));
  for (const { path: rel } of targets) {
    const text = readRepoText(repo, rel);
    if (text === null) continue;
    checked += 1;
    const issues = [];
    const lines = text.split('\n');
    if (text.endsWith('\n')) lines.pop();
    lines.forEach((raw, index) => {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (/[ \t]+$/.test(line)) issues.push({ line: index + 1, rule: 'trailing_whitespace' });
      if (line.includes('\t')) issues.push({ line: index + 1, rule: 'tab' });
      if ([...line].length > maxLineLength) issues.push({ line: index + 1, rule: 'long_line' });
    });
    if (text.length > 0 && !text.endsWith('\n')) issues.push({ line: lines.length, rule: 'no_final_newline' });
    if (issues.length === 0) continue;
    issues.forEach((issue) => (byRule[issue.rule] += 1));
    reports.push({ path: rel, count: issues.length, issues: issues.slice(0, maxIssuesPerFile) });
  }

  reports.sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
  const total = reports.reduce((sum, report) => sum + report.count, 0);
  phase.writeJsonArtifact('lint_report', 'lint_report.json', {
    max_line_length: maxLineLength,
    files_checked: checked,
    issues: total,
    by_rule: byRule,
    files: reports,
  });
  return { files_checked: checked, files_with_issues: reports.length, issues: total, by_rule: byRule };
});
