// Durations as a person types them: one parser for --ttl, --wait and the menu's time-to-live.
import { describe, expect, it } from 'vitest'
import { checkDuration, parseDuration } from '../../src/client/duration.js'
import { parseTimeToLive } from '../../src/client/menu/time-to-live.js'

describe('parseDuration', () => {
  it('reads seconds, or a whole number with s, m, h or d', () => {
    expect(parseDuration('90')).toBe(90)
    expect(parseDuration('90s')).toBe(90)
    expect(parseDuration('10m')).toBe(600)
    expect(parseDuration(' 2 H ')).toBe(7200)
    expect(parseDuration('1d')).toBe(86_400)
    expect(parseDuration('0')).toBe(0)
  })

  it('is not fooled by signs, fractions, other units or huge numbers', () => {
    for (const bad of [
      '',
      ' ',
      '-5',
      '1.5',
      '1.5h',
      'soon',
      '10w',
      '1e3',
      '5 minutes',
      '2hh',
      '9'.repeat(30),
    ])
      expect(parseDuration(bad), bad).toBeUndefined()
  })

  it('checks bounds, saying which way it is off', () => {
    expect(checkDuration('2m', { min: 1, max: 3600 })).toEqual({ seconds: 120 })
    expect(checkDuration('0', { min: 1, max: 3600 })).toEqual({
      problem: 'too short: at least 1 second',
    })
    expect(checkDuration('2d', { min: 0, max: 86_400 })).toEqual({
      problem: 'too long: at most 1 day',
    })
    expect(checkDuration('x', { min: 0, max: 1 })).toEqual({
      problem: 'not a duration: give 90 (seconds), 90s, 10m, 2h or 1d',
    })
  })

  it('is what the menu reads a time-to-live with', () => {
    for (const text of ['90', '90s', '10m', ' 2 H ', '1d'])
      expect(parseTimeToLive(text)).toEqual({ seconds: parseDuration(text) })
  })
})
