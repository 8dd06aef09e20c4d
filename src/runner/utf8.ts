/**
 * Where text stops being UTF-8, for errors that say so rather than turn bytes into U+FFFD.
 */

/** Where the first byte sequence that is not UTF-8 begins (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let max = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) need = 2;
    else if (b >= 0xf0 && b <= 0xf4) need = 3;
    else return i;
    // The second byte's range rules out overlong forms, surrogates and code points past U+10FFFF.
    if (b === 0xe0) min = 0xa0;
    else if (b === 0xf0) min = 0x90;
    else min = 0x80;
    if (b === 0xed) max = 0x9f;
    if (b === 0xf4) max = 0x8f;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      // A sequence broken or cut short: the byte that began it is where the text stops being UTF-8.
      if (c === undefined || (k === 1 ? c < min || c > max : c < 0x80 || c > 0xbf)) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
