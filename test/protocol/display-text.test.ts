// displayText: names and other untrusted text as a person sees them, with every control,
// separator and invisible format character escaped, and every two texts still told apart.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { displayText } from '../../src/protocol/index.js'

/** What must never reach a terminal raw (the joiners U+200C, U+200D excepted). */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?![\u200c\u200d])\p{Cf}/u

/** The inverse, as a JavaScript string literal would read the escapes (for the round trip). */
function undo(shown: string): string {
  const short: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' }
  return shown.replace(
    /\\(?:x([0-9a-f]{2})|u\{([0-9a-f]+)\}|u([0-9a-f]{4})|(.))/gsu,
    (whole, x?: string, astral?: string, bmp?: string, other?: string) => {
      if (x !== undefined) return String.fromCharCode(parseInt(x, 16))
      if (astral !== undefined) return String.fromCodePoint(parseInt(astral, 16))
      // fromCharCode, not fromCodePoint: a lone surrogate comes back as itself.
      if (bmp !== undefined) return String.fromCharCode(parseInt(bmp, 16))
      const char = short[other!]
      if (char === undefined) throw new Error(`not an escape: ${whole}`)
      return char
    },
  )
}

/** Any code point (lone surrogates included), weighted towards the ones that matter here. */
const char = fc.oneof(
  fc.constantFrom('\\', 'n', 'x', 'u', '{', '}', '1', 'b', '\x1b', '\n', '\u202e', '\u200d'),
  fc.constantFrom('\ud800', '\udfff', '\u0085', '\u2028', '\u00ad', '\u{e0041}', '\x7f', '\0'),
  fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code)),
)
const text = fc.array(char, { maxLength: 24 }).map((chars) => chars.join(''))

describe('displayText', () => {
  it.each([
    ['plain.txt', 'plain.txt'],
    ['café/naïve 😀.txt', 'café/naïve 😀.txt'],
    ['x\x1b[31mRED\x1b[0m', 'x\\x1b[31mRED\\x1b[0m'],
    ['disk\nnewline', 'disk\\nnewline'],
    ['a\rb\tc', 'a\\rb\\tc'],
    ['nul\0del\x7f', 'nul\\x00del\\x7f'],
    ['c1\u0085\u009b', 'c1\\x85\\x9b'],
    ['back\\slash', 'back\\\\slash'],
    ['evil\u202etxt.exe', 'evil\\u202etxt.exe'],
    ['\u2066isolate\u2069', '\\u2066isolate\\u2069'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['soft\u00adhyphen\ufeff', 'soft\\xadhyphen\\ufeff'],
    ['lone\ud800', 'lone\\ud800'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    ['👩‍💻 joined', '👩‍💻 joined'],
  ])('shows %j as %j', (input, shown) => {
    expect(displayText(input)).toBe(shown)
  })

  it('leaves nothing a terminal would act on or hide', () => {
    fc.assert(
      fc.property(text, (s) => !UNSAFE.test(displayText(s))),
      { numRuns: 2_000 },
    )
  })

  it('keeps distinct texts distinct', () => {
    fc.assert(
      fc.property(text, text, (a, b) => a === b || displayText(a) !== displayText(b)),
      { numRuns: 2_000 },
    )
  })

  it('can be read back: every escape stands for exactly one character', () => {
    fc.assert(
      fc.property(text, (s) => undo(displayText(s)) === s),
      { numRuns: 2_000 },
    )
  })

  it('changes nothing in text that needs no escape', () => {
    const safe = text.filter((s) => !UNSAFE.test(s) && !s.includes('\\'))
    fc.assert(fc.property(safe, (s) => displayText(s) === s))
  })
})
