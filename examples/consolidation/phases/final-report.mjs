// Phase 11: the Markdown summary of the whole run, from the integration report (10) and, through
// `transitive_context`, the output of every phase before it.

import { runPhase } from './lib/handoff.mjs';
import { table } from './lib/markdown.mjs';

await runPhase({ needs: [0, 1, 2, 3, 4, 5, 10] }, async (phase) => {
  const topCandidates = phase.setting('top_candidates', 10);
  const integration = phase.readJson(10, 'integration_report');
  const analysis = phase.readJson(1, 'analysis');
  const { candidates } = phase.readJson(4, 'candidates');
  // Every earlier phase's output, and (in state_summary) its name and attempts.
  const outputs = phase.pkg.dependency_contexts;
  const summary = phase.pkg.state_summary ?? {};
  const ids = Object.keys(outputs).sort((a, b) => Number(a) - Number(b));
  const ctx = (id) => phase.output(id).context;

  const sections = [
    `# Consolidation report\n\nRun \`${phase.pkg.execution_id ?? 'unknown'}\`, ` +
      `overall status **${integration.status}**.\n`,
    '## Phases\n',
    table(['Phase', 'Name', 'Attempt', 'Results'], ids.map((id) => [
      id, summary[id]?.name ?? '', summary[id]?.attempts ?? '', summarize(outputs[id].context ?? {}),
    ])),
    '## Repository\n',
    `${ctx(0).files} files, ${ctx(0).bytes} bytes, ${ctx(1).total_lines} lines; ` +
      `${ctx(2).modules} modules with ${ctx(2).edges} imports; ` +
      `duplicated blocks: ${ctx(3).duplicate_blocks}, covering ${ctx(3).duplicated_lines} lines.\n`,
    table(['Directory', 'Files', 'Lines'], analysis.directories.map((d) => [d.directory, d.files, d.lines])),
    '## Consolidation candidates\n',
    table(['#', 'Priority', 'Candidate'], candidates.slice(0, topCandidates).map((c) => [c.id, c.priority, c.title])),
    candidates.length > topCandidates ? `…and ${candidates.length - topCandidates} more in the plan.\n` : '',
    `Refactoring notes (dry run): ${ctx(5).notes} notes over ${ctx(5).files_affected} files` +
      (integration.refactor_notes_stale ? '; those files changed since, so the notes may be stale.\n' : '.\n'),
    '## Checks\n',
    table(['Check', 'Status', 'Summary'], integration.checks.map((c) => [c.name, c.status, c.summary])),
    ...integration.checks
      .filter((check) => check.findings.length > 0)
      .map((check) => `### ${check.name}\n\n${check.findings.map((f) => `- ${f}`).join('\n')}\n`),
    '## Artifacts\n',
    ids.map((id) => Object.entries(outputs[id].artifacts ?? {})
      .map(([name, ref]) => `- phase ${id}, ${name}: \`${ref.path}\``)
      .join('\n')).filter(Boolean).join('\n') + '\n',
  ];

  const report = sections.filter(Boolean).join('\n');
  phase.writeArtifact('final_report', 'final_report.md', report);
  return {
    status: integration.status,
    phases_reported: ids.length,
    candidates: candidates.length,
    report_bytes: Buffer.byteLength(report),
  };
});

/** The scalar values of a context, `key=value`, for one table cell. */
function summarize(context) {
  return Object.entries(context)
    .filter(([, value]) => value === null || typeof value !== 'object')
    .map(([key, value]) => `${key}=${String(value).length > 60 ? `${String(value).slice(0, 12)}…` : value}`)
    .join(', ');
}
