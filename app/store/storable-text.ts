/**
 * Why a string is text the store cannot keep, or undefined: PostgreSQL takes no NUL in `text` or
 * `jsonb`, and a lone UTF-16 surrogate (valid in JSON's `\uD800`, not a Unicode character) has no
 * UTF-8 form. Each door refuses such text, naming where, rather than fail the transaction that stores it.
 */
export function unstorableText(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0) return `contains NUL (U+0000) at character ${i + 1}, which cannot be stored; remove it`;
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains a lone surrogate (U+${code.toString(16).toUpperCase()}) at character ${i + 1}, which is not Unicode text; send whole characters`;
    }
  }
  return undefined;
}
