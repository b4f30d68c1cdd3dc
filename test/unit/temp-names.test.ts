// Temp file names are a salt drawn once per thread plus a counter (temp-file.ts): distinct
// within a thread, all behind one salt, no random bytes drawn per file.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TEMP_PREFIX } from '../../src/protocol/names.js'
import { tempPathFor } from '../../src/server/storage/temp-file.js'

describe('temp file names', () => {
  it('share one random salt and count up: no two alike', () => {
    const names = Array.from({ length: 5_000 }, () => path.basename(tempPathFor('/d/f.txt')))
    expect(new Set(names).size).toBe(names.length)
    const salts = new Set(names.map((n) => n.slice(TEMP_PREFIX.length, TEMP_PREFIX.length + 12)))
    expect(salts.size).toBe(1)
    expect([...salts][0]).toMatch(/^[0-9a-f]{12}$/)
    for (const n of names) expect(n.startsWith(TEMP_PREFIX)).toBe(true)
    expect(path.dirname(tempPathFor('/d/e/f.txt'))).toBe('/d/e')
  })
})
