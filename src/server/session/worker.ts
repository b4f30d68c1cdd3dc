/**
 * The Piscina task: one long-lived task per client connection. Resolves when the connection ends.
 * The thread collects its garbage once its last session has ended (workers/idle-collect.ts).
 */
import { Session } from './session.js'
import { idleCollector } from '../workers/idle-collect.js'
import type { SessionTask } from '../workers/messages.js'

export default async function runSession(task: SessionTask): Promise<void> {
  await idleCollector.around(() => new Session(task).run())
}
