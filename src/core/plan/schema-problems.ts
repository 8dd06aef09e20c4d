/**
 * A plan's or config's schema problems in words: where (`phase "train"`, `the plan`, `the
 * orchestrator config`), which field, what it must be, and what was written instead
 * (`phase "train": "retries" must be a whole number ≥ 0, got "two"`); an unknown key with the key
 * probably meant (`phase "deploy": unknown key "dependsOn"; did you mean "depends_on"?`).
 *
 * The rules' words come from the schemas (zod's `error` param); `ruleFor` words the issues a
 * schema leaves to zod. Pure and deterministic: the workflow checks its input with these too.
 */
import type { z } from 'zod';
import { findSecrets } from '../handoff/secrets.js';
import { formatPath } from './problems.js';
import type { PhaseId } from './schema.js';

/** Longest part of a user's string shown back to them. */
const MAX_SHOWN = 40;

/** A phase id as messages print it: a number bare (`3`), a string quoted (`"train"`). */
export function idText(id: PhaseId): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

/** `phase 3`, `phase "train"`. */
export function phaseRef(id: PhaseId): string {
  return `phase ${idText(id)}`;
}

/**
 * A value the user wrote, for a message: numbers, booleans and null as written, strings quoted
 * and cut to 40 characters, lists and objects by their kind; never anything the secret scan
 * would flag (`key` is the key it sat under, for the scan's key-name rule).
 */
export function quoteValue(value: unknown, key?: string): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') {
    if (looksSecret(value, key)) return 'a value that looks like a credential (not shown)';
    if (value.length <= MAX_SHOWN) return JSON.stringify(value);
    let cut = value.slice(0, MAX_SHOWN);
    if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1); // not half a character
    return `${JSON.stringify(cut)}…`;
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function looksSecret(value: string, key?: string): boolean {
  return findSecrets(key === undefined ? value : { [key]: value }).length > 0;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * What a field must be, for the issues whose schema gives no words of its own: pass it as the
 * `error` option of safeParse (a schema's own `error` words take precedence over it).
 */
export const ruleFor: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${plural(issue.minimum, 'item')}`;
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${plural(issue.minimum, 'character')} long`;
      return `must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${plural(issue.maximum, 'item')}`;
      if (issue.origin === 'string') return `must be at most ${plural(issue.maximum, 'character')} long`;
      return `must be ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
    case 'invalid_format':
      return `must match ${issue.pattern ?? `the ${issue.format} format`}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'invalid_union':
      return 'is not any of the forms it may take';
    default:
      return undefined;
  }
};

/** One of the two documents a user writes, for placing a problem in it. */
export interface Document {
  /** `the plan`, `the orchestrator config`: the words a problem outside any phase starts with (none when empty). */
  readonly name: string;
  /** The JSON as written. */
  readonly raw: unknown;
  /** Its schema, for the keys an object at some path may have. */
  readonly schema: z.ZodType;
  /** True for a plan, whose `phases[i]` problems are placed by the phase's id. */
  readonly hasPhases: boolean;
}

/** Every problem of a failed parse, in words, in zod's order. */
export function schemaProblems(error: z.ZodError, doc: Document): string[] {
  const problems: string[] = [];
  for (const issue of error.issues) {
    const { where, rel } = place(doc, issue.path);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(doc.schema, issue.path);
      const inside = rel.length > 0 ? ` in ${fieldText(rel)}` : '';
      for (const key of issue.keys) problems.push(`${where}${unknownKey(key, known, inside)}`);
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = rel[rel.length - 1];
      const rule = issue.issues[0]?.message ?? 'is not a valid key';
      problems.push(`${where}key ${quoteValue(String(key))} in ${fieldText(rel.slice(0, -1))} ${rule}`);
      continue;
    }
    const field = rel.length > 0 ? `${fieldText(rel)} ` : '';
    const value = valueAt(doc.raw, issue.path);
    const last = issue.path[issue.path.length - 1];
    if (value === undefined) {
      problems.push(`${where}${field}is missing${issue.message.startsWith('must ') ? `; it ${issue.message}` : ''}`);
    } else {
      problems.push(`${where}${field}${issue.message}, got ${quoteValue(value, typeof last === 'string' ? last : undefined)}`);
    }
  }
  return problems;
}

/** A field's path, quoted: `"retries"`, `"resource_classes.gpu"`; bare when the path quotes a key itself (`resource_classes["my-gpu"]`). */
function fieldText(rel: readonly PropertyKey[]): string {
  const path = formatPath(rel);
  return path.includes('"') ? path : `"${path}"`;
}

/**
 * Where the phase at `phases[index]` is, in a message: by its id when it has one that can be
 * printed (even one its schema refuses: that is how the user knows it), else by its place.
 */
export function phasePlace(rawPhase: unknown, index: number): string {
  const id = isRecord(rawPhase) ? rawPhase.id : undefined;
  if (typeof id === 'number' && Number.isFinite(id)) return phaseRef(id);
  if (typeof id === 'string' && id !== '' && !looksSecret(id)) return `phase ${quoteValue(id)}`;
  return `the phase at phases[${index}]`;
}

/** Where a problem is, as the start of its message (`phase "train": `), and the path from there. */
function place(doc: Document, path: readonly PropertyKey[]): { where: string; rel: PropertyKey[] } {
  if (doc.hasPhases && path[0] === 'phases' && typeof path[1] === 'number') {
    const phases = isRecord(doc.raw) ? doc.raw.phases : undefined;
    return { where: `${phasePlace(Array.isArray(phases) ? phases[path[1]] : undefined, path[1])}: `, rel: path.slice(2) };
  }
  return { where: doc.name ? `${doc.name}: ` : '', rel: [...path] };
}

function unknownKey(key: string, known: readonly string[], inside: string): string {
  const meant = likelyKey(key, known);
  if (meant !== undefined) return `unknown key ${quoteValue(key)}${inside}; did you mean "${meant}"?`;
  return `unknown key ${quoteValue(key)}${inside}; remove it${known.length > 0 ? `, or use one of: ${known.join(', ')}` : ''}`;
}

/** Lower case, no separators: `dependsOn`, `depends-on` and `depends_on` read alike. */
function compact(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Compact and without a plural ending, so `retry` and `retries` read alike too. */
function singular(k: string): string {
  if (k.endsWith('ies')) return `${k.slice(0, -3)}y`;
  if (k.endsWith('s') && !k.endsWith('ss')) return k.slice(0, -1);
  return k;
}

/**
 * The known key a user probably meant by an unknown one: the same but for case, separators or a
 * plural ending; else the only one it begins (`depend`); else the nearest by edit distance, when
 * that is small for the key's length. Undefined when none is close.
 */
export function likelyKey(key: string, known: readonly string[]): string | undefined {
  const c = compact(key);
  const n = singular(c);
  if (n === '') return undefined;
  const forms = known.map((k) => ({ key: k, c: compact(k), n: singular(compact(k)) }));
  const same = forms.find((f) => f.n === n);
  if (same) return same.key;
  if (n.length >= 5) {
    const begun = forms.filter((f) => f.n.startsWith(n));
    if (begun.length === 1) return begun[0]!.key;
  }
  const allowed = c.length <= 3 ? 0 : c.length <= 6 ? 1 : c.length <= 12 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const f of forms) {
    const d = Math.min(editDistance(c, f.c), editDistance(n, f.n));
    if (d < bestDistance) {
      best = f.key;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  innerType?: z.ZodType;
}

/** The keys the schema allows on the object at `path`, in the schema's order. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  let i = 0;
  while (at) {
    const def = at._zod.def as unknown as Def;
    if (def.in) at = def.in;
    else if (def.innerType) at = def.innerType;
    else if (i === path.length) return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
    else {
      const next: z.ZodType | undefined = def.type === 'object' ? def.shape?.[String(path[i])] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined;
      at = next;
      i++;
    }
  }
  return [];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let at = raw;
  for (const part of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<PropertyKey, unknown>)[part];
  }
  return at;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
