/**
 * Putting what users wrote (plan and phase names, errors, reasons, agents' messages, paths) into
 * the Markdown of the Web UI's current details as text, never as Markdown: a phase named
 * `# Deploy | [docs](https://…)` shows as written, and does not make a heading, a link or a broken
 * table. Pure: the workflow renders the details.
 */

/** How much of one user-supplied string the details show. */
export const MAX_SHOWN_CHARS = 500;

/**
 * The ASCII punctuation that can make Markdown: emphasis, code, links and images, HTML, entities,
 * a table's columns, headings, lists, quotes, autolinks (`:` of a scheme, `.` of a domain). Each may
 * be backslash-escaped (CommonMark), and the Web UI's renderer takes exactly these escapes; it
 * shows a backslash before the others (`"`, `'`, `%`, `,`, `/`, `;`, `=`, `?`, `@`), which make no
 * Markdown in text that never starts a line, so they stay as they are. (It shows straight quotes
 * curly, escaped or not, and entities as written: quotes cannot be kept straight.)
 */
const PUNCTUATION = /[\\`*_{}[\]()#+\-.!<>|~:&$^]/g;

/** One line of text: line breaks (which would end a table row or a quote) become spaces. */
function oneLine(value: unknown): string {
  const text = String(value).replace(/\r\n|[\r\n\u2028\u2029\u0085\v\f\t]/g, ' ');
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}…` : text;
}

/** User text as Markdown text, shown as written. */
export function md(value: unknown): string {
  // Control characters show as nothing useful (and a NUL CommonMark replaces anyway).
  return oneLine(value)
    .replace(/\p{Cc}/gu, '\uFFFD')
    .replace(PUNCTUATION, (c) => `\\${c}`);
}

/**
 * User text as an inline code span (outside tables: GFM splits a cell at a `|` even in code): no
 * escapes work inside one, so the fence is longer than any run of backticks in it.
 */
export function mdCode(value: unknown): string {
  const text = oneLine(value);
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text.startsWith(' ') || text.endsWith(' ') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
