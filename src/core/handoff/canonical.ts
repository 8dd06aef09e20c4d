/**
 * Canonical JSON: one exact text for a JSON value, so its hash does not depend on the order
 * in which an object's keys happened to be written. For JSON data it is RFC 8785, the JSON
 * Canonicalization Scheme (JCS), which agents in other languages have libraries for (Python's
 * `rfc8785`, for one): docs/agent-contract.md says so, and the vectors in schema/vectors/ and the
 * tests hold Baton to it.
 *
 * - Object keys sorted by UTF-16 code unit order (JavaScript's default string sort), at every level.
 * - No whitespace; strings and numbers encoded exactly as JSON.stringify encodes them, which is
 *   what RFC 8785 prescribes (it defines both by ECMAScript's JSON.stringify and Number's toString):
 *   `"` `\` and U+0000–U+001F escaped (`\b \t \n \f \r`, else `\u00xx` in lower case), nothing
 *   else; numbers as the shortest text that reads back the same double, -0 as `0`, in exponent form
 *   from 1e21 up and below 1e-6 (`1e+21`, `1e-7`), in full between.
 * - Object members whose value is `undefined` are omitted and `undefined` in an array becomes
 *   `null`, as JSON.stringify does; `toJSON` (e.g. Date) and boxed primitives are handled the same way.
 * - Non-finite numbers, functions, symbols, bigints and cycles throw, where JSON.stringify would
 *   silently write `null`, drop the member, or throw an unhelpful error.
 *
 * So for any value it accepts, `canonicalJson(v) === canonicalJson(JSON.parse(JSON.stringify(v)))`:
 * a package hashed in memory hashes the same after a round trip through a file.
 *
 * One difference from RFC 8785, which takes I-JSON (RFC 7493) only: a string (or key) holding a
 * lone UTF-16 surrogate is written as JSON.stringify writes it (`"\ud800"`). `rfc8785()` refuses
 * it instead, as other implementations do; that is what packages and results are hashed with.
 *
 * Pure (no Node builtins) so deterministic workflow code can use it. Iterative, so deep nesting
 * cannot overflow the stack; a large string is encoded by one native JSON.stringify call.
 */

type Key = string | number | null;

type Frame =
  | { kind: 'array'; value: readonly unknown[]; index: number; key: Key }
  | { kind: 'object'; value: Record<string, unknown>; keys: string[]; index: number; wrote: boolean; key: Key };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A surrogate with no partner: with the `u` flag, a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What JSON.stringify would encode in place of `v`: the result of its toJSON, unboxed. */
function resolve(v: unknown, key: Key): unknown {
  let r = v;
  if (r !== null && (typeof r === 'object' || typeof r === 'bigint')) {
    const toJSON = (r as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') r = (toJSON as (this: unknown, k: string) => unknown).call(r, key === null ? '' : String(key));
  }
  if (r instanceof Number || r instanceof String || r instanceof Boolean) r = r.valueOf();
  return r;
}

/** Canonical JSON, lenient about lone surrogates (see above): for comparing values, never for hashes others check. */
export function canonicalJson(value: unknown): string {
  return write(value, false);
}

/**
 * RFC 8785 (JCS) canonical JSON: canonicalJson, refusing a string or key with a lone surrogate
 * (not I-JSON), which no other implementation would hash the same. Packages and results are
 * hashed with it.
 */
export function rfc8785(value: unknown): string {
  return write(value, true);
}

function write(value: unknown, ijson: boolean): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  /** Containers on the path from the root to the current value: meeting one again is a cycle. */
  const open = new Set<object>();

  const fail = (what: string, key: Key): never => {
    let path = '$';
    for (const k of [...stack.map((f) => f.key), key]) {
      if (k === null) continue;
      path += typeof k === 'number' ? `[${k}]` : IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    }
    throw new Error(`canonicalJson: ${what} at ${path} cannot be written as JSON`);
  };

  /** Writes a resolved primitive, or opens a container and pushes its frame. */
  const emit = (v: unknown, key: Key): void => {
    switch (typeof v) {
      case 'string':
        if (ijson && LONE_SURROGATE.test(v)) fail('a string with a lone UTF-16 surrogate (not I-JSON, which RFC 8785 requires)', key);
        out.push(JSON.stringify(v));
        return;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        return;
      case 'number':
        if (!Number.isFinite(v)) fail(`the non-finite number ${String(v)}`, key);
        out.push(JSON.stringify(v));
        return;
      case 'bigint':
        return fail('a bigint', key);
      case 'function':
        return fail('a function', key);
      case 'symbol':
        return fail('a symbol', key);
      case 'undefined':
        // Object members that are undefined are skipped before; here it is the root or an array element.
        if (key === null) fail('undefined', key);
        out.push('null');
        return;
      case 'object':
        if (v === null) {
          out.push('null');
          return;
        }
        if (open.has(v)) fail('a circular reference', key);
        open.add(v);
        if (Array.isArray(v)) {
          out.push('[');
          stack.push({ kind: 'array', value: v, index: 0, key });
        } else {
          out.push('{');
          stack.push({ kind: 'object', value: v as Record<string, unknown>, keys: Object.keys(v).sort(), index: 0, wrote: false, key });
        }
        return;
    }
  };

  emit(resolve(value, null), null);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.kind === 'array') {
      if (frame.index < frame.value.length) {
        const i = frame.index++;
        if (i > 0) out.push(',');
        emit(resolve(frame.value[i], i), i);
        continue;
      }
      out.push(']');
    } else {
      let emitted = false;
      while (frame.index < frame.keys.length) {
        const k = frame.keys[frame.index++]!;
        const member = resolve(frame.value[k], k);
        if (member === undefined) continue; // omitted, as JSON.stringify omits it
        if (ijson && LONE_SURROGATE.test(k)) fail('a key with a lone UTF-16 surrogate (not I-JSON, which RFC 8785 requires)', k);
        if (frame.wrote) out.push(',');
        frame.wrote = true;
        out.push(JSON.stringify(k), ':');
        emit(member, k);
        emitted = true;
        break;
      }
      if (emitted) continue;
      out.push('}');
    }
    stack.pop();
    open.delete(frame.value);
  }
  return out.join('');
}
