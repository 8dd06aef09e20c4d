// Renders the store's section of BENCHMARKS.md from bench/results/store-latest.json (written by
// `npm run bench:store`). The section sits between two markers, so that `npm run bench`, which
// writes the rest of the file, keeps it, and `npm run bench:store` replaces only it.

export const BEGIN = '<!-- store section: written by npm run bench:store -->';
export const END = '<!-- end of store section -->';

const s = (ms) => (ms / 1000).toFixed(2);
const ratio = (x) => x.toFixed(2);

export function renderStoreSection(r) {
  const c = r.chain;
  const a = r.artifact;
  const mb = (a.bytes / 1e6).toFixed(0);
  const met = c.s3OverFilesystem <= 1.1 ? '**met**' : '**not met**';
  return [
    BEGIN,
    '## 7. The store: a chain through S3, and a 20 MB artifact between machines',
    '',
    `Measured ${r.date.slice(0, 10)} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, ${r.machine.platform}, Node ${r.machine.node},`,
    `commit \`${r.commit.slice(0, 12)}\`, by \`npm run bench:store\` against its own Temporal dev server and the Versity S3 gateway of`,
    '`scripts/s3-dev.sh` on loopback (posix backend on the same disk).',
    '',
    `**Chain.** ${c.phases} \`handler\` phases, each depending on the one before and handing it a ${c.valueBytes}-byte value (over`,
    '1 KiB, so stored by reference: every phase stores one value and fetches one, and stores its output and package),',
    'packages on. One warm-up of each mode, then ' + `${c.stats.s3.n} rounds, the order rotating each round.`,
    '',
    '| wall time (s) | median | min | max |',
    '| --- | --- | --- | --- |',
    `| no store (the workdir) | ${s(c.stats.workdir.median)} | ${s(c.stats.workdir.min)} | ${s(c.stats.workdir.max)} |`,
    `| filesystem store (\`BATON_STORE=<dir>\`) | ${s(c.stats.filesystem.median)} | ${s(c.stats.filesystem.min)} | ${s(c.stats.filesystem.max)} |`,
    `| S3 store | ${s(c.stats.s3.median)} | ${s(c.stats.s3.min)} | ${s(c.stats.s3.max)} |`,
    '',
    '| result | value | target | |',
    '| --- | --- | --- | --- |',
    `| S3 store / filesystem store (medians) | **${ratio(c.s3OverFilesystem)}** | ≤ 1.10 | ${met} |`,
    `| S3 store / no store | ${ratio(c.s3OverWorkdir)} | | |`,
    `| time per phase, S3 store | ${(c.stats.s3.median / c.phases).toFixed(1)} ms | | |`,
    '',
    `**A ${mb} MB artifact from one machine to another.** Two phases: \`Write\` on a \`default\` worker makes ${mb} MB of`,
    'random bytes and reports them as an artifact; `Read`, on a `gpu` worker (another process, with a cache of its own),',
    'reads and hashes it. Each worker is a `baton worker` process; the store is S3. The same plan with a 1 KB artifact',
    `gives the fixed cost; the difference is the handoff: hashing, storing, fetching and checking ${mb} MB. ` + `${a.samples.large.length} runs of each, alternating, after a warm-up.`,
    '',
    '| median (ms) | Write | Read | both | run |',
    '| --- | --- | --- | --- | --- |',
    `| ${mb} MB artifact | ${a.large.writeMs} | ${a.large.readMs} | ${a.large.bothMs} | ${Math.round(a.large.wallMs)} |`,
    `| 1 KB artifact | ${a.small.writeMs} | ${a.small.readMs} | ${a.small.bothMs} | ${Math.round(a.small.wallMs)} |`,
    `| **the handoff of ${mb} MB** | | | **${Math.round(a.handoffMs)}** | |`,
    '',
    END,
  ].join('\n');
}

/** `markdown` with its store section replaced by `section` (or `section` appended when it has none). */
export function replaceStoreSection(markdown, section) {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (start >= 0 && end > start) return `${markdown.slice(0, start)}${section}${markdown.slice(end + END.length)}`;
  return `${markdown.trimEnd()}\n\n${section}\n`;
}

/** The store section of `markdown`, or '' (what `npm run bench` carries over when it rewrites the file). */
export function storeSectionOf(markdown) {
  const start = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  return start >= 0 && end > start ? markdown.slice(start, end + END.length) : '';
}
