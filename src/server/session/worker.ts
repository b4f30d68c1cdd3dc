/**
 * The Piscina task: one long-lived task per client connection. Resolves when the connection ends.
 */
import { Session } from './session.js'
import type { SessionTask } from '../workers/messages.js'

export default async function runSession(task: SessionTask): Promise<void> {
  await new Session(task).run()
}
