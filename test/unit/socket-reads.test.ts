// socket-reads.ts on real loopback sockets: an accepted socket switched (from a 'data' handler, as
// the session bridge is) to reading into the caller's buffers delivers every byte once and in
// order, across buffer ends, pauses and resumes, and its 'end' and 'close' still come.
import type net from 'node:net'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { readIntoBuffers } from '../../src/server/net/socket-reads.js'
import { socketPair } from '../helpers/index.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function pair(): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const sockets = await socketPair()
  cleanups.push(sockets.close)
  return sockets
}

describe('readIntoBuffers', () => {
  it('takes over from data events: every byte arrives once, in order, through small buffers, with pauses', async () => {
    const { client, accepted } = await pair()
    const payload = randomBytes(3 * 1024 * 1024 + 17)
    const parts: Buffer[] = []
    let switched: boolean | undefined
    let buffer = new Uint8Array(0)
    let used = 0
    let reads = 0
    const next = (): Uint8Array => {
      // Buffers of an odd size, a fresh one when full: reads end mid-buffer and at its end.
      if (used === buffer.length) {
        buffer = new Uint8Array(100_003)
        used = 0
      }
      return buffer.subarray(used)
    }
    const onRead = (bytes: number): void => {
      parts.push(Buffer.from(buffer.subarray(used, used + bytes)))
      used += bytes
      // Pause now and then, resumed a moment later: no read is lost or repeated across it.
      if (++reads % 7 === 0) {
        accepted.pause()
        setTimeout(() => accepted.resume(), 2)
      }
    }
    accepted.once('data', (first: Buffer) => {
      parts.push(Buffer.from(first))
      switched = readIntoBuffers(accepted, next, onRead)
      if (!switched) accepted.on('data', (chunk: Buffer) => parts.push(Buffer.from(chunk)))
    })
    const ended = once(accepted, 'end')
    client.write(payload.subarray(0, 10))
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (let at = 10; at < payload.length; at += 65_537)
      client.write(payload.subarray(at, at + 65_537))
    client.end()
    await ended
    // On Node 20 the fast path is taken; a Node without its internals would fall back.
    expect(switched).toBe(true)
    expect(Buffer.concat(parts).equals(payload)).toBe(true)
    accepted.end()
    await once(accepted, 'close')
  })

  it('declines a socket that already holds unread bytes (the caller keeps its data events)', async () => {
    const { client, accepted } = await pair()
    accepted.pause()
    client.write('held')
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (accepted.readableLength > 0) return resolve()
        accepted.read(0)
        setTimeout(poll, 5)
      }
      poll()
    })
    expect(
      readIntoBuffers(
        accepted,
        () => new Uint8Array(16),
        () => undefined,
      ),
    ).toBe(false)
    expect(String(accepted.read())).toBe('held')
  })
})
