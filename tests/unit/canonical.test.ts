/**
 * Baton's canonical JSON is RFC 8785 (JCS), as docs/agent-contract.md says: the RFC's own examples
 * and number table, every string escape, key order by UTF-16 code units, and what it refuses.
 * (tests/integration/python-agent.test.ts checks the same against Python's rfc8785, value by value.)
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, rfc8785 } from '../../src/core/handoff/canonical.js';

const fromBits = (hex: string): number => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('canonical JSON is RFC 8785', () => {
  it("writes the RFC's example (section 3.2.3) exactly", () => {
    const input = '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}';
    expect(rfc8785(JSON.parse(input))).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it("sorts the RFC's sorting example (section 3.2.3) by UTF-16 code units", () => {
    const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\u{1F600}': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    const keys = Object.keys(JSON.parse(rfc8785(input)) as object);
    // JSON.parse puts integer-like keys first; read the order from the text instead.
    expect(keys).toContain('1');
    const order = [...rfc8785(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(order).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\u{1F600}', '\ufb33']);
    // By code point, U+FB33 would come before U+1F600: the difference RFC 8785 calls out.
    expect(['\ufb33', '\u{1F600}'].sort()).toEqual(['\u{1F600}', '\ufb33']);
  });

  it("writes every double of the RFC's appendix B as it says", () => {
    const table: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of table) expect(rfc8785(fromBits(bits)), bits).toBe(text);
    for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) expect(() => rfc8785(fromBits(bits)), bits).toThrow(/non-finite/);
  });

  it('writes any double as the shortest text that reads back the same, in exponent form exactly from 1e21 up and below 1e-6', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const buf = Buffer.alloc(8);
    for (let i = 0; i < 20_000; i++) {
      buf.writeUInt32BE(next(), 0);
      buf.writeUInt32BE(next(), 4);
      const x = buf.readDoubleBE(0);
      if (!Number.isFinite(x)) continue;
      const text = rfc8785(x);
      expect(Number(text)).toBe(x === 0 ? 0 : x);
      const abs = Math.abs(x);
      expect(/e/.test(text), text).toBe(abs !== 0 && (abs >= 1e21 || abs < 1e-6));
      // Shortest, and of the shortest the closest (ties to even): the digits toPrecision gives at the fewest
      // significant digits that read back the same (found here independently of toString).
      if (x === 0) continue;
      let p = 1;
      while (Number(x.toPrecision(p)) !== x) p++;
      const significant = (t: string): string => t.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
      const [got, closest] = [significant(text), significant(x.toPrecision(p))];
      expect(got.length, `${text} (${p} digits)`).toBe(closest.length);
      // Two candidates equally close (x halfway between): ECMAScript takes the even one, toPrecision rounds up.
      if (got !== closest) expect(Number(got.at(-1)) % 2, `${text} against ${x.toPrecision(p)}`).toBe(0);
    }
  });

  it('escapes exactly what RFC 8785 escapes: " \\ and U+0000 to U+001F, in lower-case hex or the short forms', () => {
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    for (let c = 0; c < 0x20; c++) {
      const expected = short[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
      expect(rfc8785(String.fromCharCode(c))).toBe(`"${expected}"`);
    }
    expect(rfc8785('"')).toBe('"\\""');
    expect(rfc8785('\\')).toBe('"\\\\"');
    // Everything else in the BMP (surrogates apart) is written as itself, "/" and U+2028 included.
    for (let c = 0x20; c <= 0xffff; c++) {
      if ((c >= 0xd800 && c <= 0xdfff) || c === 0x22 || c === 0x5c) continue;
      const s = String.fromCharCode(c);
      if (rfc8785(s) !== `"${s}"`) expect.fail(`U+${c.toString(16)} was escaped`);
    }
    expect(rfc8785('\u{1F600}')).toBe('"\u{1F600}"');
  });

  it('refuses a lone surrogate in a string or a key (not I-JSON), saying where; canonicalJson escapes it', () => {
    expect(() => rfc8785({ a: ['ok', 'x\ud800y'] })).toThrow(/lone UTF-16 surrogate .* at \$\.a\[1\]/);
    expect(() => rfc8785({ a: { '\udc00': 1 } })).toThrow(/key with a lone UTF-16 surrogate/);
    expect(() => rfc8785('\ude00\ud83d')).toThrow(/lone/); // a pair in the wrong order is two lone ones
    expect(rfc8785('\ud83d\ude00')).toBe('"\u{1F600}"');
    expect(canonicalJson('x\ud800')).toBe('"x\\ud800"');
  });

  it('agrees with canonicalJson on everything else', () => {
    const value = { b: [1.5, -0, 1e21, 'é\u2028'], a: { z: null, y: true } };
    expect(rfc8785(value)).toBe(canonicalJson(value));
    expect(rfc8785(value)).toBe('{"a":{"y":true,"z":null},"b":[1.5,0,1e+21,"é\u2028"]}');
  });
});
