// Review of user locks across kill -9 (issue 4): a server killed while an unlock applies the queue.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { waitFile, waitFor } from '../helpers/index.js'
import { locksOn, waitLock, waitUnlocked, planLockedAtA } from './lock-helpers.js'

const UPDATES = 40

describe('review: kill -9 while an unlock applies the queue', () => {
  it('finishes the unlock after restart (not left locked, half applied)', async () => {
    const { a, b, alice } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')
    let text = 'base\n'
    for (let i = 1; i <= UPDATES; i++) {
      await fs.appendFile(b.file('plan.txt'), `v${i}\n`)
      text += `v${i}\n`
      await waitLock(a, 'plan.txt', 'A', i)
    }

    // Unlock, and kill A once part of the queue is applied.
    void alice.call('unlock', { name: 'plan.txt' })
    await waitFor(
      async () => {
        const queued = (await locksOn(a, 'plan.txt'))[0]?.queued
        if (queued === undefined) throw new Error('the whole queue was applied: window missed')
        return queued < UPDATES
      },
      { intervalMs: 10, what: 'part of the queue applied' },
    )
    await a.kill9()
    const partly = await fs.readFile(a.file('plan.txt'), 'utf8')
    await a.restart()

    // The owner asked to unlock and the server accepted: after the restart the unlock goes on
    // (the file reaches B's version and the lock ends), rather than the file staying locked at
    // an intermediate version until someone unlocks it again.
    expect(partly.length).toBeLessThan(text.length)
    await waitUnlocked(a, 'plan.txt')
    await waitFile([a], 'plan.txt', text)
  })
})
