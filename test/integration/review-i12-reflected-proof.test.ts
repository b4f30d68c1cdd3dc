// A proof reflected back to its sender must not pass. A server with a cluster key dials a peer
// that has none (here the test, at an address the server was given with --peer). That "peer"
// copies the server's own hello — its nonce, and the server's own name as the peer's — onto a
// connection to the server's control port, hands the challenge it gets there back to the server's
// dialling side, and the proof that side makes back to the control port. Both sides then compute
// the same context (connector = acceptor = the server's name): the server must refuse a peer (or
// a challenger) named like itself, so the keyless reflector never gets a peer's welcome.
import { mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it, onTestFailed } from 'vitest'
import { FramedSocket } from '../../src/server/sync/framed-socket.js'
import {
  ClusterServer,
  freePorts,
  rawConnect,
  tempDir,
  waitFor,
  type RawConnection,
} from '../helpers/index.js'

const KEY = 'cmV2aWV3OiBhIHByb29mIHJlZmxlY3RlZCBiYWNrIHRvIGl0cyBzZW5kZXI='

let server: ClusterServer | undefined
let listener: net.Server | undefined
afterEach(async () => {
  await server?.stop()
  await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()))
  server = undefined
  listener = undefined
})

describe('the control port handshake', () => {
  it('does not welcome a keyless peer that reflects the server’s own proof', async () => {
    // The server's dialling side, as the reflector sees it: its messages, and how to answer.
    const dialled: { messages: Record<string, unknown>[]; framed?: FramedSocket } = {
      messages: [],
    }
    listener = net.createServer((socket) => {
      if (dialled.framed) return void socket.destroy() // only the first attempt is used
      dialled.framed = new FramedSocket(socket, {
        onControl: (m) => void dialled.messages.push(m as Record<string, unknown>),
        onClose: () => undefined,
      })
    })
    const reflectorPort = await new Promise<number>((resolve) =>
      listener!.listen(0, '127.0.0.1', () =>
        resolve((listener!.address() as net.AddressInfo).port),
      ),
    )

    const base = tempDir('tandem-review-reflect-')
    mkdirSync(path.join(base, 'root'))
    mkdirSync(path.join(base, 'state'))
    const keyFile = path.join(base, 'cluster.key')
    writeFileSync(keyFile, `${KEY}\n`)
    const [port, syncPort] = await freePorts(2)
    server = new ClusterServer(
      'A',
      path.join(base, 'root'),
      path.join(base, 'state'),
      port!,
      syncPort!,
      [`127.0.0.1:${reflectorPort}`],
      ['--cluster-key', keyFile],
    )
    onTestFailed(() => console.error(server?.output().slice(-4000)))
    await server.start()

    // A dials the reflector: its hello carries its own name and nonce.
    await waitFor(() => dialled.messages.length > 0, {
      timeoutMs: 20_000,
      what: 'A to dial its --peer',
    })
    const hello = dialled.messages[0]!
    expect(hello).toMatchObject({ type: 'hello', role: 'peer', id: 'A' })

    // The same hello, on A's own control port.
    const raw: RawConnection = await rawConnect(server.port)
    await raw.sendPreamble()
    await raw.sendControl(hello)
    let answer = await raw.nextControl(10_000)
    if (answer['type'] === 'challenge') {
      // Handed back to A's dialling side: it answers with its proof (or refuses).
      dialled.framed!.send(answer)
      await waitFor(() => dialled.messages.length > 1, {
        timeoutMs: 10_000,
        what: "A's dialling side to answer its own challenge",
      })
      const reply = dialled.messages[1]!
      await raw.sendControl(reply)
      answer = await raw.nextControl(10_000).catch(() => ({ type: 'closed' }))
    }
    expect(answer['type']).not.toBe('welcome')
    expect(answer).toMatchObject({ type: 'error', error: { code: 'ERR_AUTH' } })
    raw.destroy()
  })
})
