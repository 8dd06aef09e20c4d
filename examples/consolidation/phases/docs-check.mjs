// Phase 9: the Markdown files, their headings, and relative links that point at nothing
// (a missing file, or an anchor that matches no heading).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { runPhase } from './lib/handoff.mjs';
import { readInventory, readRepoText } from './lib/repo.mjs';

const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_LINK = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/;

await runPhase({ needs: [0] }, async (phase) => {
  const extensions = phase.setting('extensions', ['.md', '.markdown']);
  const checkAnchors = phase.setting('check_anchors', true);
  const repo = phase.repo;

  const docs = new Map();
  for (const { path: rel } of readInventory(phase).filter((file) => extensions.includes(file.ext))) {
    const text = readRepoText(repo, rel);
    if (text !== null) docs.set(rel, parseMarkdown(text));
  }

  const reports = [];
  for (const [rel, doc] of docs) {
    const broken = [];
    for (const link of doc.links) {
      const reason = checkLink(repo, rel, link.target, docs, checkAnchors);
      if (reason) broken.push({ line: link.line, target: link.target, reason });
    }
    reports.push({ path: rel, headings: doc.headings.length, links: doc.links.length, broken });
  }

  const sum = (count) => reports.reduce((total, report) => total + count(report), 0);
  phase.writeJsonArtifact('docs_report', 'docs_report.json', { docs: reports });
  return {
    docs: reports.length,
    headings: sum((report) => report.headings),
    relative_links: sum((report) => report.links),
    broken_links: sum((report) => report.broken.length),
    docs_without_headings: reports.filter((report) => report.headings === 0).length,
  };
});

/** Headings (as GitHub anchors) and relative links, outside fenced code and inline code. */
function parseMarkdown(text) {
  const headings = [];
  const links = [];
  const repeats = new Map();
  let fence = null;
  text.split('\n').forEach((raw, index) => {
    const marker = raw.match(/^\s{0,3}(`{3,}|~{3,})/);
    if (marker) {
      if (!fence) fence = marker[1];
      else if (marker[1][0] === fence[0] && marker[1].length >= fence.length) fence = null;
      return;
    }
    if (fence) return;
    const line = raw.replace(/`[^`]*`/g, '');
    const heading = line.match(/^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/);
    if (heading) {
      // GitHub numbers repeated headings: #setup, #setup-1, #setup-2
      const anchor = anchorOf(heading[1]);
      const seen = repeats.get(anchor) ?? 0;
      repeats.set(anchor, seen + 1);
      headings.push(seen === 0 ? anchor : `${anchor}-${seen}`);
    }
    const targets = [...line.matchAll(INLINE_LINK)].map((match) => match[1]);
    const reference = line.match(REFERENCE_LINK);
    if (reference) targets.push(reference[1]);
    for (const target of targets) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//')) links.push({ line: index + 1, target });
    }
  });
  return { headings, links };
}

function anchorOf(heading) {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Why a relative link is broken, or null when it is fine. */
function checkLink(repo, from, target, docs, checkAnchors) {
  const [rawPath, anchor] = target.split('#', 2);
  let file = from;
  if (rawPath) {
    let decoded;
    try {
      decoded = decodeURIComponent(rawPath.split('?')[0]);
    } catch {
      return 'malformed link';
    }
    const joined = decoded.startsWith('/') ? decoded.slice(1) : path.posix.join(path.posix.dirname(from), decoded);
    file = path.posix.normalize(joined);
    if (file.startsWith('../')) return 'points outside the repository';
    if (!existsSync(path.join(repo, file))) return 'no such file';
  }
  if (checkAnchors && anchor && docs.has(file) && !docs.get(file).headings.includes(anchor.toLowerCase())) {
    return `no heading #${anchor} in ${file}`;
  }
  return null;
}
