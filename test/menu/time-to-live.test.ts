// The menu's time-to-live answers for a lock.
import { describe, expect, it } from 'vitest'
import { parseTimeToLive } from '../../src/client/menu/time-to-live.js'

describe('parseTimeToLive', () => {
  it('reads seconds, or a number with a unit; empty means until unlocked', () => {
    expect(parseTimeToLive('')).toEqual({ seconds: undefined })
    expect(parseTimeToLive('  ')).toEqual({ seconds: undefined })
    expect(parseTimeToLive('90')).toEqual({ seconds: 90 })
    expect(parseTimeToLive('90s')).toEqual({ seconds: 90 })
    expect(parseTimeToLive('10m')).toEqual({ seconds: 600 })
    expect(parseTimeToLive(' 2 H ')).toEqual({ seconds: 7200 })
    expect(parseTimeToLive('1d')).toEqual({ seconds: 86_400 })
  })

  it('explains what it cannot take', () => {
    for (const bad of ['0', '-5', '1.5', 'soon', '10w', '3651d', '1e3']) {
      expect(typeof parseTimeToLive(bad), bad).toBe('string')
    }
  })
})
