// Phase 3: duplicated code blocks. Every window of `window_lines` normalized lines is hashed; two
// places sharing a hash share that window, and runs of shared windows merge into one block.

import { createHash } from 'node:crypto';
import { runPhase } from './lib/handoff.mjs';
import { readInventory, readRepoText, SCRIPT_EXTENSIONS } from './lib/repo.mjs';

await runPhase({ needs: [0] }, async (phase) => {
  const windowLines = phase.setting('window_lines', 6, { min: 2 });
  const minLineChars = phase.setting('min_line_chars', 4);
  const extensions = phase.setting('extensions', SCRIPT_EXTENSIONS);
  const ignoreImports = phase.setting('ignore_import_lines', true);
  // A window found in more places than this is boilerplate, not a consolidation candidate.
  const maxOccurrences = phase.setting('max_occurrences', 12, { min: 2 });
  const maxBlocks = phase.setting('max_blocks', 500);

  const files = [];
  const windows = new Map(); // hash -> [[fileIndex, windowIndex]]
  let windowCount = 0;
  for (const { path: rel } of readInventory(phase).filter((file) => extensions.includes(file.ext))) {
    const text = readRepoText(phase.repo, rel);
    if (text === null) continue;
    const lines = normalizedLines(text, { minLineChars, ignoreImports });
    const fileIndex = files.push({ path: rel, lines }) - 1;
    for (let start = 0; start + windowLines <= lines.length; start += 1) {
      const hash = createHash('sha1');
      for (let i = start; i < start + windowLines; i += 1) hash.update(lines[i].text).update('\n');
      const key = hash.digest('base64');
      if (!windows.has(key)) windows.set(key, []);
      windows.get(key).push([fileIndex, start]);
      windowCount += 1;
    }
  }

  // Every pair of places sharing a window, keyed so that the pair one window later is easy to find.
  const pairs = new Set();
  let duplicateWindows = 0;
  for (const places of windows.values()) {
    if (places.length < 2 || places.length > maxOccurrences) continue;
    duplicateWindows += 1;
    for (let i = 0; i < places.length; i += 1) {
      for (let j = i + 1; j < places.length; j += 1) {
        const [[fa, wa], [fb, wb]] = [places[i], places[j]];
        if (fa === fb && Math.abs(wa - wb) < windowLines) continue; // a window overlapping itself
        pairs.add(`${fa}:${wa}:${fb}:${wb}`);
      }
    }
  }

  const blocks = [];
  for (const key of pairs) {
    const [fa, wa, fb, wb] = key.split(':').map(Number);
    if (pairs.has(`${fa}:${wa - 1}:${fb}:${wb - 1}`)) continue; // not the start of a run
    let run = 1;
    while (pairs.has(`${fa}:${wa + run}:${fb}:${wb + run}`)) run += 1;
    const span = run + windowLines - 1;
    blocks.push({ lines: span, a: place(files[fa], wa, span), b: place(files[fb], wb, span) });
  }
  blocks.sort((x, y) => y.lines - x.lines || x.a.path.localeCompare(y.a.path) || x.a.start - y.a.start);

  const duplicatedLines = countCoveredLines(blocks);
  phase.writeJsonArtifact('duplicates', 'duplicates.json', {
    window_lines: windowLines,
    files_scanned: files.length,
    blocks: blocks.slice(0, maxBlocks),
    truncated: blocks.length > maxBlocks,
  });
  return {
    files_scanned: files.length,
    windows: windowCount,
    duplicate_windows: duplicateWindows,
    duplicate_blocks: blocks.length,
    duplicated_lines: duplicatedLines,
    largest_block_lines: blocks[0]?.lines ?? 0,
  };
});

/** Lines worth comparing, whitespace collapsed, each with its 1-based line number. */
function normalizedLines(text, { minLineChars, ignoreImports }) {
  const kept = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (line.length < minLineChars || /^[\s{}()[\];,]*$/.test(line)) return;
    if (ignoreImports && /^(import\b|export \* from|\} from ['"])/.test(line)) return;
    kept.push({ text: line, number: index + 1 });
  });
  return kept;
}

function place(file, firstWindow, span) {
  return { path: file.path, start: file.lines[firstWindow].number, end: file.lines[firstWindow + span - 1].number };
}

/** Distinct source lines that fall in some duplicated block, on either side. */
function countCoveredLines(blocks) {
  const covered = new Map();
  for (const block of blocks) {
    for (const side of [block.a, block.b]) {
      if (!covered.has(side.path)) covered.set(side.path, new Set());
      for (let n = side.start; n <= side.end; n += 1) covered.get(side.path).add(n);
    }
  }
  return [...covered.values()].reduce((sum, lines) => sum + lines.size, 0);
}
