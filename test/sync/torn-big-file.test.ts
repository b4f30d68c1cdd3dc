// A 256 MiB file written slowly on A (1 MiB at a time, over a few seconds) never shows torn on B:
// every version B holds under the name has a SHA-256 that A's file had at some moment, and B ends
// with the final one.
import { createHash, randomFillSync } from 'node:crypto'
import fs from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { fileSha256, startCluster, waitFor } from '../helpers/index.js'

const MiB = 1024 * 1024
const CHUNKS = 256
/** Pause between chunks, so the write spreads over seconds as a slow program's would. */
const PACE_MS = 8

describe('a big file written slowly', () => {
  it('never appears torn on the peer: every version B shows is a state A had', async () => {
    const [a, b] = await startCluster(2)
    const states = new Set<string>()
    const seenOnB = new Set<string>()
    let writing = true

    // Watch B's copy the whole time; fileSha256 re-reads only when the file's inode changed.
    const watchB = (async () => {
      while (writing) {
        const sha = await fileSha256(b.file('big.bin'))
        if (sha !== undefined) seenOnB.add(sha)
        await delay(20)
      }
    })()

    const hash = createHash('sha256')
    const file = await fs.open(a.file('big.bin'), 'w')
    states.add(hash.copy().digest('hex'))
    const chunk = Buffer.allocUnsafe(MiB)
    try {
      for (let i = 0; i < CHUNKS; i++) {
        randomFillSync(chunk)
        await file.write(chunk, 0, chunk.length)
        hash.update(chunk)
        states.add(hash.copy().digest('hex'))
        await delay(PACE_MS)
      }
    } finally {
      await file.close()
    }
    const final = hash.digest('hex')

    try {
      await waitFor(
        async () => {
          const sha = await fileSha256(b.file('big.bin'))
          if (sha !== undefined) seenOnB.add(sha)
          return sha === final
        },
        { timeoutMs: 30_000, intervalMs: 50, what: "B to hold A's final big.bin" },
      )
    } finally {
      writing = false
      await watchB
    }
    const torn = [...seenOnB].filter((sha) => !states.has(sha))
    expect(torn, `B showed ${seenOnB.size} version(s), ${torn.length} never on A`).toEqual([])
  }, 60_000)
})
