// Temp file names (temp-file.ts): 8 random bytes each, from a pool drawn 4 KiB at a time, so
// that they are distinct and none can be told from the one before (a counter could be).
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TEMP_PREFIX } from '../../src/protocol/names.js'
import { tempPathFor } from '../../src/server/storage/temp-file.js'

describe('temp file names', () => {
  it('are random across pool refills: no two alike, no shared stem', () => {
    const names = Array.from({ length: 5_000 }, () => path.basename(tempPathFor('/d/f.txt')))
    expect(new Set(names).size).toBe(names.length)
    for (const n of names)
      expect(n).toMatch(new RegExp(`^${TEMP_PREFIX.replace(/[.]/g, '\\.')}[0-9a-f]{16}$`))
    // Consecutive names share no common stem (a salt plus a counter would share 12+ characters).
    const stems = new Set(names.map((n) => n.slice(TEMP_PREFIX.length, TEMP_PREFIX.length + 6)))
    expect(stems.size).toBeGreaterThan(4_900)
    expect(path.dirname(tempPathFor('/d/e/f.txt'))).toBe('/d/e')
  })
})
