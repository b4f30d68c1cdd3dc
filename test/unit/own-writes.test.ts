// How the scanner knows the server's own writes (own-writes.ts): a notice matches what was seen
// at a name once, older notices go with it, and a notice from before a look that does not match
// what it saw is outdated — while one that came in after the look still explains it.
import { describe, expect, it } from 'vitest'
import { OwnWrites } from '../../src/server/watch/own-writes.js'

const fp = (ino: number, size = 1) => ({ ino, size, mtimeMs: 1000 + ino })

describe('own writes', () => {
  it('matches a notice once, and drops the older ones with it', () => {
    const own = new OwnWrites()
    own.add('a', fp(1))
    own.add('a', fp(2))
    const since = own.tick
    expect(own.match('a', fp(2), since)).toBe(true)
    expect(own.match('a', fp(1), since)).toBe(false) // outdated by the later one
    expect(own.match('a', fp(2), since)).toBe(false) // used
  })

  it('tells a deletion (absent) from a file, and names apart', () => {
    const own = new OwnWrites()
    own.add('gone', null)
    const since = own.tick
    expect(own.match('other', null, since)).toBe(false)
    expect(own.match('gone', fp(3), since)).toBe(false)
    own.add('gone', null)
    expect(own.match('gone', null, since)).toBe(true)
  })

  it('keeps a late notice for the second look; an early one that did not match is dropped', () => {
    const own = new OwnWrites()
    own.add('x', fp(1)) // before the look, and not what it saw: outdated
    const since = own.tick
    expect(own.match('x', fp(9), since)).toBe(false)
    own.add('x', fp(9)) // the notice of what it saw, arriving late
    expect(own.match('x', fp(1), since, true)).toBe(false)
    expect(own.match('x', fp(9), since, true)).toBe(true)
  })

  it('forgets a name the applier stored as it is', () => {
    const own = new OwnWrites()
    own.add('y', null)
    own.settled('y')
    expect(own.match('y', null, 0)).toBe(false)
  })
})
