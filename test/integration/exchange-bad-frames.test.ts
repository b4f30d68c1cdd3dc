// The file-exchange port (--sync-port) answers bad input with the same codes as the client port:
// random bytes ERR_BAD_FRAME, another protocol version ERR_UNSUPPORTED_VERSION, an oversized
// length ERR_TOO_LARGE, each in an {type:'error'} frame after our preamble, then the close. The
// mirroring between A and B goes on afterwards.
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeControl, encodePreamble, FrameType } from '../../src/protocol/index.js'
import {
  rawConnect,
  startCluster,
  waitFile,
  waitPeersUp,
  waitFor,
  type ClusterServer,
  type RawConnection,
  frameHeader,
} from '../helpers/index.js'

/** What the server sent before closing: its preamble, then the error's code. */
async function answer(conn: RawConnection): Promise<{ preamble: boolean; code?: string }> {
  await waitFor(() => conn.isClosed, { timeoutMs: 15_000, what: 'the server to close' })
  const error = conn.frames.find((f) => f.kind === 'control' && f.message.type === 'error')
  const code = error?.kind === 'control' ? (error.message.error as { code: string }).code : ''
  return { preamble: conn.frames[0]?.kind === 'preamble', code }
}

describe('bad frames on the file-exchange port', () => {
  let a: ClusterServer
  let b: ClusterServer
  beforeAll(async () => {
    ;[a, b] = await startCluster(2)
  })

  it('random bytes: ERR_BAD_FRAME', async () => {
    const conn = await rawConnect(a.syncPort)
    await conn.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    expect(await answer(conn)).toEqual({ preamble: true, code: 'ERR_BAD_FRAME' })
  })

  it('another protocol version: ERR_UNSUPPORTED_VERSION', async () => {
    const conn = await rawConnect(a.syncPort)
    await conn.send(encodePreamble(2))
    expect(await answer(conn)).toEqual({ preamble: true, code: 'ERR_UNSUPPORTED_VERSION' })
  })

  it('a length of 0xFFFFFFFF: ERR_TOO_LARGE, before a hello and on an open channel', async () => {
    const early = await rawConnect(a.syncPort)
    await early.send(encodePreamble(), frameHeader(0xffffffff, FrameType.Control))
    expect(await answer(early)).toEqual({ preamble: true, code: 'ERR_TOO_LARGE' })

    const open = await rawConnect(a.syncPort)
    await open.send(encodePreamble())
    await open.sendControl({ type: 'peer-hello', server: 'Z', channel: 'content' })
    expect(await open.nextControl()).toMatchObject({ type: 'peer-welcome', server: 'A' })
    await open.send(frameHeader(0xffffffff, FrameType.Data))
    expect(await answer(open)).toEqual({ preamble: true, code: 'ERR_TOO_LARGE' })
  })

  it('an unknown frame type after a good preamble: ERR_BAD_FRAME', async () => {
    const conn = await rawConnect(b.syncPort)
    await conn.send(encodePreamble(), frameHeader(1, 9), Buffer.from([0]))
    expect(await answer(conn)).toEqual({ preamble: true, code: 'ERR_BAD_FRAME' })
  })

  it('mirroring between A and B still works afterwards', async () => {
    // One more of each, with a good frame in front of the bad bytes.
    const conn = await rawConnect(b.syncPort)
    await conn.send(encodePreamble(), encodeControl({ type: 'nonsense' }), Buffer.from('junk'))
    await waitFor(() => conn.isClosed, { what: 'the connection to close' })
    await waitPeersUp(a, 1)
    await waitPeersUp(b, 1)
    await a.write('after-a.txt', 'made on A after the bad frames\n')
    await waitFile([b], 'after-a.txt', 'made on A after the bad frames\n', 15_000)
    await b.write('after-b.txt', 'made on B after the bad frames\n')
    await waitFile([a], 'after-b.txt', 'made on B after the bad frames\n', 15_000)
  })
})
