// Small Markdown writers for the reports (phases 4, 5 and 11).

export function cell(value) {
  return String(value).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

export function table(header, rows) {
  if (rows.length === 0) return '_none_\n';
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** A fenced block whose fence is longer than any backtick run inside it. */
export function fence(text, language = '') {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${text.replace(/\n$/, '')}\n${marks}\n`;
}
