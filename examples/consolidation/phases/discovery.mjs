// Phase 0: walk the repository and write the inventory every later phase starts from.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runPhase } from './lib/handoff.mjs';
import { countLines, extensionOf, INVENTORY_COLUMNS, isBinary, toCsv, walkRepo } from './lib/repo.mjs';

await runPhase({}, async (phase) => {
  const repo = phase.repo;
  const skipDirNames = phase.setting('skip_dirs', ['node_modules', '.git', '.temporal', 'dist', '.baton']);
  const maxBytes = phase.setting('max_file_bytes', 2_000_000);
  const topExtensions = phase.setting('top_extensions', 15);

  const rows = [];
  const byExtension = {};
  let totalBytes = 0;
  for (const rel of walkRepo(repo, { skipDirNames, skipAbsolute: [phase.workdir] })) {
    let buffer;
    try {
      buffer = readFileSync(path.join(repo, rel));
    } catch {
      continue; // removed while we walked
    }
    // Lines are counted for text files only; huge or binary files keep 0.
    const lines = buffer.length <= maxBytes && !isBinary(buffer) ? countLines(buffer) : 0;
    const ext = extensionOf(rel);
    rows.push([rel, buffer.length, lines, ext]);
    totalBytes += buffer.length;
    const key = ext || '(none)';
    byExtension[key] = (byExtension[key] ?? 0) + 1;
  }

  phase.writeArtifact('inventory', 'inventory.csv', toCsv(INVENTORY_COLUMNS, rows));
  return { files: rows.length, bytes: totalBytes, by_extension: topCounts(byExtension, topExtensions) };
});

/** The `limit` largest counts, the rest summed under "other", so the context stays small. */
function topCounts(counts, limit) {
  const sorted = Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  const top = Object.fromEntries(sorted.slice(0, limit));
  const other = sorted.slice(limit).reduce((sum, [, count]) => sum + count, 0);
  return other > 0 ? { ...top, other } : top;
}
