/** A session worker's PortLink over a real MessageChannel, with the main thread's end of it. */
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { PortLink } from '../../src/server/workers/port-link.js'
import { registerCleanup } from './cleanup.js'

/** The link (handlers that do nothing) and the port the main thread would hold; closed after the test. */
export function linkedPortLink(): { link: PortLink; main: MessagePort } {
  const { port1: main, port2: worker } = new MessageChannel()
  const link = new PortLink(worker, {
    onEvent: () => undefined,
    onShutdown: () => undefined,
    onActivity: () => undefined,
    onClosed: () => undefined,
  })
  registerCleanup(() => {
    main.close()
    worker.close()
  })
  return { link, main }
}
