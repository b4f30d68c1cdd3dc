/**
 * An ora spinner on stderr for waits that may be long and have no bytes to count (an unlock that
 * applies a queue). Like the progress bar, it appears only after a short delay, is cleared at the
 * end, and draws nothing when disabled (output piped).
 */
import ora from 'ora'
import { displayText } from '../../../protocol/index.js'

const SHOW_AFTER_MS = 300

export async function withSpinner<T>(
  stream: NodeJS.WritableStream,
  enabled: boolean,
  text: string,
  work: Promise<T>,
): Promise<T> {
  if (!enabled) return work
  const spinner = ora({ text: displayText(text), stream }) // `text` may quote a name
  const timer = setTimeout(() => spinner.start(), SHOW_AFTER_MS)
  try {
    return await work
  } finally {
    clearTimeout(timer)
    if (spinner.isSpinning) spinner.stop()
  }
}
