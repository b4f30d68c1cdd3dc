/**
 * The Piscina task: one long-lived task per client connection. Resolves when the connection ends.
 */
import { PortLink } from './port-link.js'
import type { SessionTask } from './messages.js'
import { Session } from '../session/session.js'

export default async function runSession(task: SessionTask): Promise<void> {
  let session: Session | undefined
  const link = new PortLink(task.port, {
    onActivity: () => session?.touch(),
    onEvent: (entry) => session?.onEvent(entry),
    onShutdown: () => session?.onShutdown(),
    onClosed: () => session?.onClosed(),
  })
  session = new Session(task, link)
  try {
    await session.run()
  } finally {
    // The main thread closes the port once the socket is closed; closing it here could drop
    // bytes still queued on it.
    link.closeConnection('session ended')
  }
}
