/**
 * The text of a plan, config, package or result file, as plain JSON data: a UTF-8 byte-order mark is
 * dropped, bytes that are not UTF-8 are refused, and YAML that means something JSON cannot say is
 * refused rather than quietly changed (`!!set` became `{}`, `!!binary` a Buffer, `.inf` Infinity).
 */
import { isUtf8 } from 'node:buffer';
import { isAlias, isCollection, isPair, isScalar, LineCounter, parseDocument, visit, type Node } from 'yaml';
import { firstInvalidUtf8 } from '../runner/utf8.js';

/** Aliases (`*name`) one YAML file may use: enough to share a block of config, too few to blow up. */
export const MAX_YAML_ALIASES = 100;

/** YAML's core schema, which is JSON's data: the only tags a file may spell out. */
const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/** The text, or the problems with it (each a sentence that names where). */
export function decodeText(bytes: Buffer, file: string): { text: string } | { problems: string[] } {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return { problems: [`${file} is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8`] };
  }
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) {
    const at = firstInvalidUtf8(body);
    const line = 1 + body.subarray(0, at).filter((b) => b === 0x0a).length;
    return { problems: [`${file} is not UTF-8: byte 0x${body[at]!.toString(16).padStart(2, '0')} at offset ${at + bytes.length - body.length} (line ${line}) does not begin a valid UTF-8 character; save it as UTF-8`] };
  }
  return { text: body.toString('utf8') };
}

/**
 * YAML as plain JSON data, or the problems that keep it from being that: tags beyond the core
 * schema, keys that are maps or lists, merge keys, numbers JSON has not (`.inf`, `.nan`), more than
 * MAX_YAML_ALIASES aliases. Syntax errors throw (the caller words them).
 */
export function parseYamlData(text: string, file: string): { value: unknown } | { problems: string[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { schema: 'core', merge: false, uniqueKeys: true, lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) throw doc.errors[0]!;
  const problems: string[] = [];
  const at = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}, line ${lines.linePos(offset).line}`;
  };
  for (const warning of doc.warnings) problems.push(`${file}, line ${lines.linePos(warning.pos[0]).line}: ${warning.message.split('\n')[0]}`);
  let aliases = 0;
  visit(doc, {
    Alias() {
      aliases++;
    },
    Pair(_, pair) {
      if (isCollection(pair.key)) problems.push(`${at(pair.key as Node)}: a key that is a map or a list is not JSON data; use a string`);
      else if (isScalar(pair.key) && pair.key.value === '<<' && isAlias(pair.value)) {
        problems.push(`${at(pair.key)}: a merge key (<<) is not JSON data; write the keys out`);
      }
    },
    Node(_, node) {
      if (isPair(node)) return;
      const tag = (node as { tag?: string }).tag;
      if (tag && !CORE_TAGS.has(tag)) {
        problems.push(`${at(node)}: the tag ${tag.replace('tag:yaml.org,2002:', '!!')} is not JSON data; remove it and write the value as a string, number, boolean, null, map or list`);
      }
      if (isScalar(node) && typeof node.value === 'number' && !Number.isFinite(node.value)) {
        problems.push(`${at(node)}: ${String(node.source ?? node.value)} is not a number JSON has; write a finite number`);
      }
    },
  });
  if (aliases > MAX_YAML_ALIASES) problems.push(`${file} uses ${aliases} aliases (*name), over the limit of ${MAX_YAML_ALIASES}; write the values out`);
  if (problems.length > 0) return { problems };
  return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
}
