/**
 * Waiting for any key outside a prompt (to stop watching the log). The terminal is put in raw
 * mode for the wait, so Ctrl+C arrives as a key too, and is restored after.
 */
import { eraseLastLine, note } from './ui.js'

export interface KeyWait {
  /** Resolves at the first key (or at the end of input). */
  pressed: Promise<void>
  /** Stop waiting and give the terminal back; safe to call twice. */
  stop(): void
}

export function waitForKey(stdin: NodeJS.ReadStream = process.stdin): KeyWait {
  const wasRaw = stdin.isRaw
  let resolvePressed: () => void = () => {}
  const pressed = new Promise<void>((resolve) => (resolvePressed = resolve))
  let stopped = false
  const onKey = (): void => {
    stop()
    resolvePressed()
  }
  const stop = (): void => {
    if (stopped) return
    stopped = true
    stdin.off('data', onKey)
    stdin.off('end', onKey)
    if (stdin.isTTY) stdin.setRawMode(wasRaw)
    stdin.pause()
  }
  if (stdin.isTTY) stdin.setRawMode(true)
  stdin.on('data', onKey)
  stdin.on('end', onKey)
  stdin.resume()
  return { pressed, stop }
}

/** Show `hint`, wait for any key, then take the hint away again. */
export async function pressAnyKey(hint: string): Promise<void> {
  note(hint)
  const key = waitForKey()
  await key.pressed
  key.stop()
  eraseLastLine()
}
