/**
 * Long output a page at a time, as `more` shows it: one screenful, then a prompt line; Space
 * shows the next page, Enter or ↓ one more line, q or Esc stops. Outside a terminal (or when it
 * all fits) the text is written whole. The prompt line is erased after each key, so what stays
 * on the screen reads as one listing.
 */
import { dim, eraseLastLine, say, takeLineCount } from './ui.js'

export interface PageOptions {
  /** Lines the terminal has (default: its height). */
  rows?: number | undefined
  stdin?: NodeJS.ReadStream
}

/** Write `text`; paged when it is taller than the terminal. */
export async function page(text: string, options: PageOptions = {}): Promise<void> {
  const stdin = options.stdin ?? process.stdin
  const lines = text.split('\n')
  // Two lines stay free: the prompt, and the line the cursor waits on.
  const height = Math.max(3, (options.rows ?? process.stdout.rows ?? 24) - 2)
  if (!process.stdout.isTTY || !stdin.isTTY || lines.length <= height) return say(text)
  let shown = 0
  let step = height
  while (shown < lines.length) {
    say(lines.slice(shown, shown + step).join('\n'))
    shown = Math.min(lines.length, shown + step)
    if (shown >= lines.length) return
    say(
      dim(
        `-- more -- ${shown} of ${lines.length} lines · space: next page · enter: one line · q: stop`,
      ),
    )
    const key = await readKey(stdin)
    eraseLastLine()
    if (key === 'q' || key === 'Q' || key === '\x1b' || key === '\x03' || key === '') {
      // Stopped: back to the menu at once, without its "press any key".
      takeLineCount()
      return
    }
    step = key === '\r' || key === '\n' || key === '\x1b[B' || key === 'j' ? 1 : height
  }
}

/** One key press, read raw (the terminal gets its mode back after); '' at the end of input. */
function readKey(stdin: NodeJS.ReadStream): Promise<string> {
  const wasRaw = stdin.isRaw
  return new Promise((resolve) => {
    const done = (data?: Buffer | string): void => {
      stdin.off('data', done)
      stdin.off('end', done)
      stdin.setRawMode(wasRaw)
      stdin.pause()
      resolve(data === undefined ? '' : data.toString())
    }
    stdin.setRawMode(true)
    stdin.on('data', done)
    stdin.on('end', done)
    stdin.resume()
  })
}
