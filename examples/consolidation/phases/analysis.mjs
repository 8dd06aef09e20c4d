// Phase 1: from phase 0's inventory, the largest and longest files and the lines per top-level directory.

import { runPhase, fail } from './lib/handoff.mjs';
import { readInventory } from './lib/repo.mjs';

await runPhase({ needs: [0] }, async (phase) => {
  const topN = phase.setting('top_n', 10);
  const longFileLines = phase.setting('long_file_lines', 300);
  const files = readInventory(phase);
  const discovered = phase.output(0).context.files;
  if (discovered !== files.length) {
    fail(`phase 0 reported ${discovered} files but its inventory lists ${files.length}; re-run phase 0`);
  }

  const byDirectory = {};
  for (const file of files) {
    const top = file.path.includes('/') ? file.path.slice(0, file.path.indexOf('/')) : '.';
    const entry = (byDirectory[top] ??= { files: 0, lines: 0, bytes: 0 });
    entry.files += 1;
    entry.lines += file.lines;
    entry.bytes += file.bytes;
  }
  const directories = Object.entries(byDirectory)
    .map(([directory, totals]) => ({ directory, ...totals }))
    .sort((a, b) => b.lines - a.lines || a.directory.localeCompare(b.directory));
  const largest = [...files].sort((a, b) => b.bytes - a.bytes || a.path.localeCompare(b.path)).slice(0, topN);
  const longest = [...files].sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path)).slice(0, topN);
  const longFiles = files.filter((file) => file.lines > longFileLines).sort((a, b) => b.lines - a.lines);
  const totalLines = files.reduce((sum, file) => sum + file.lines, 0);

  phase.writeJsonArtifact('analysis', 'analysis.json', {
    total_files: files.length,
    total_lines: totalLines,
    largest_files: largest,
    longest_files: longest,
    long_file_lines: longFileLines,
    long_files: longFiles,
    directories,
  });
  return {
    total_lines: totalLines,
    largest_file: largest[0] ? { path: largest[0].path, bytes: largest[0].bytes } : null,
    longest_file: longest[0] ? { path: longest[0].path, lines: longest[0].lines } : null,
    long_files: longFiles.length,
    top_level_dirs: directories.length,
    lines_by_dir: Object.fromEntries(directories.slice(0, 12).map((d) => [d.directory, d.lines])),
  };
});
