// The remembered listings that `lock INDEX` checks against: real files in a temp config dir.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { listingCachePath, recallListing, rememberListing } from '../../src/client/listing-cache.js'
import { tempDir } from '../helpers/index.js'

describe('listing cache', () => {
  it('remembers the last listing per server address, in a directory it creates', async () => {
    const file = listingCachePath(path.join(tempDir(), 'not', 'yet'))
    expect(await recallListing(file, 'h:1')).toBeUndefined()
    await rememberListing(file, 'h:1', ['a', 'b'])
    await rememberListing(file, 'h:2', ['x'])
    await rememberListing(file, 'h:1', ['a', 'b', 'c'])
    expect(await recallListing(file, 'h:1')).toEqual(['a', 'b', 'c'])
    expect(await recallListing(file, 'h:2')).toEqual(['x'])
    expect(await recallListing(file, 'h:3')).toBeUndefined()
    // Written by rename: no temp file stays behind.
    expect(await fs.readdir(path.dirname(file))).toEqual(['listings.json'])
  })

  it('treats a malformed file as empty, and replaces it on the next write', async () => {
    const file = listingCachePath(tempDir())
    for (const junk of ['{', '[]', '{"format":1,"servers":{"h:1":{"names":[1]}}}', '']) {
      await fs.writeFile(file, junk)
      expect(await recallListing(file, 'h:1')).toBeUndefined()
    }
    await rememberListing(file, 'h:1', ['ok'])
    expect(await recallListing(file, 'h:1')).toEqual(['ok'])
  })

  it('keeps the 16 most recently listed addresses', async () => {
    const file = listingCachePath(tempDir())
    for (let i = 0; i < 20; i++) await rememberListing(file, `h:${i}`, [`f${i}`], 1000 + i)
    expect(await recallListing(file, 'h:3')).toBeUndefined()
    expect(await recallListing(file, 'h:4')).toEqual(['f4'])
    expect(await recallListing(file, 'h:19')).toEqual(['f19'])
  })

  it('ignores a config directory it cannot write', async () => {
    const dir = tempDir()
    const blocker = path.join(dir, 'blocker')
    await fs.writeFile(blocker, 'a file where the directory should be')
    const file = listingCachePath(blocker)
    await expect(rememberListing(file, 'h:1', ['a'])).resolves.toBeUndefined()
    expect(await recallListing(file, 'h:1')).toBeUndefined()
  })
})
