/**
 * Text from the disk, a peer or the wire (file names, client ids, server names, error messages),
 * made safe to show a person: every character that could drive a terminal, break a line or hide
 * itself is written as an escape, in JavaScript string-literal style, so that it is visible and
 * the shown text still tells every two texts apart:
 *
 *   `\\`        a backslash (doubled, so that every backslash shown begins an escape)
 *   `\n` `\r` `\t`  newline, carriage return, tab
 *   `\xHH`      other C0 controls, DEL, C1 controls, and U+00AD (soft hyphen)
 *   `\uHHHH`    line and paragraph separators, bidi controls (U+061C, U+200E/F, U+202A–U+202E,
 *               U+2066–U+2069) and the other invisible format characters, lone surrogates
 *   `\u{HHHHH}` format characters beyond U+FFFF (tag characters)
 *
 * The zero-width joiner and non-joiner (U+200D, U+200C) are kept: emoji sequences and several
 * scripts need them, and they cannot move or recolour text. Names tandem serves never hold a
 * backslash or a control character (names.ts), so they are shown unchanged unless they hold a
 * format character. Pasting the shown text into a JavaScript string literal gives the text back.
 * Pure; for human output only (`--json` prints the real text).
 */

// C0, DEL, C1 (\p{Cc}); line and paragraph separators; lone surrogates; format characters
// (\p{Cf}) except the joiners.
const ESCAPED = /[\\\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?![\u200c\u200d])\p{Cf}/gu

const SHORT: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** `text` with every control, separator and invisible format character escaped (see above). */
export function displayText(text: string): string {
  return text.replace(ESCAPED, escapeOne)
}

function escapeOne(char: string): string {
  const short = SHORT[char]
  if (short !== undefined) return short
  const code = char.codePointAt(0)!
  const hex = code.toString(16)
  if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`
  if (code <= 0xffff) return `\\u${hex.padStart(4, '0')}`
  return `\\u{${hex}}`
}
