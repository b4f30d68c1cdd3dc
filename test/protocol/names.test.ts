// normalizeName: what a client may call a file, and the canonical form the server uses.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NameLimits, normalizeName, TEMP_PREFIX } from '../../src/protocol/index.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('normalizeName accepts', () => {
  it.each([
    ['a.txt', 'a.txt'],
    ['reports/2026/q1.txt', 'reports/2026/q1.txt'],
    ['./x', 'x'],
    ['a//b', 'a/b'],
    ['a/./b', 'a/b'],
    ['a/', 'a'],
    ['...', '...'],
    ['.hidden', '.hidden'],
    ['café/naïve.txt', 'café/naïve.txt'],
    ['emoji-😀.txt', 'emoji-😀.txt'],
    ['with space.txt', 'with space.txt'],
  ])('%j as %j', (input, canonical) => {
    expect(normalizeName(input)).toBe(canonical)
  })

  it('a 255-byte segment and a path of exactly 1024 bytes', () => {
    const segment = 'a'.repeat(NameLimits.maxSegmentBytes)
    expect(normalizeName(segment)).toBe(segment)
    const path = [segment, segment, segment, 'b'.repeat(254), 'c'].join('/')
    expect(Buffer.byteLength(path)).toBe(NameLimits.maxPathBytes)
    expect(normalizeName(path)).toBe(path)
  })
})

describe('normalizeName refuses with ERR_BAD_PATH', () => {
  it.each([
    ['empty', ''],
    ['only slashes and dots', './/.'],
    ['absolute', '/etc/passwd'],
    ['dot-dot', '../x'],
    ['dot-dot in the middle', 'a/../../x'],
    ['a lone dot-dot', '..'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['DEL', 'a\u007fb'],
    ['C1 control', 'a\u0085b'],
    ['tab', 'a\tb'],
    ['backslash', 'a\\b'],
    ['backslash traversal', '..\\x'],
    ['lone surrogate', 'a\ud800b'],
    ['a 256-byte segment', 'a'.repeat(256)],
    ['a 256-byte segment of multi-byte characters', 'é'.repeat(128)],
    ['a path over 1024 bytes', Array.from({ length: 11 }, () => 'x'.repeat(100)).join('/')],
    ['a temp-file name', `${TEMP_PREFIX}abc`],
    ['a temp-file name in a folder', `dir/${TEMP_PREFIX}abc`],
  ])('%s', (_label, input) => {
    expect(codeOf(() => normalizeName(input))).toBe('ERR_BAD_PATH')
  })

  it.each([[undefined], [null], [42], [{}], [['a']]])('a non-string %j', (input) => {
    expect(codeOf(() => normalizeName(input))).toBe('ERR_BAD_PATH')
  })
})

describe('normalizeName properties', () => {
  const nameChar = fc.constantFrom('a', 'b', '.', '/', '-', 'é', ' ')
  const candidate = fc.array(nameChar, { maxLength: 30 }).map((chars) => chars.join(''))

  it('is idempotent and its output never escapes the root', () => {
    fc.assert(
      fc.property(candidate, (name) => {
        let canonical: string
        try {
          canonical = normalizeName(name)
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_BAD_PATH')
          return
        }
        expect(normalizeName(canonical)).toBe(canonical)
        const segments = canonical.split('/')
        expect(segments.every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true)
        expect(canonical.startsWith('/')).toBe(false)
      }),
      { numRuns: 500 },
    )
  })
})
