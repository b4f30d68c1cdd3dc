/** The line that says why nothing happens yet while a busy server is waited for (CLI and menu). */
import { displayText } from '../../../protocol/client.js'
import type { BusyWait } from '../../config.js'

/**
 * "server 127.0.0.1:8001 is busy (the server is serving its maximum of 9 clients); retrying in
 * 1 s — up to 29 s more (--no-wait to fail at once)"
 */
export function busyLine(wait: BusyWait, howToStop = '--no-wait to fail at once'): string {
  const why = displayText(wait.message.replace(/;\s*try again shortly$/, ''))
  const more = wait.leftMs > 0 ? ` — up to ${seconds(wait.leftMs)} more` : ', the last try'
  return `server ${displayText(wait.address)} is busy (${why}); retrying in ${seconds(wait.delayMs)}${more} (${howToStop})`
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${Math.round(ms / 100) / 10} s`
}
