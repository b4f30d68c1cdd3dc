/**
 * An ora spinner on stderr for waits that may be long and have no bytes to count (an unlock that
 * applies a queue). Like the progress bar, it appears only after a short delay, is cleared at the
 * end, and draws nothing when disabled (output piped).
 *
 * ora is loaded only when a spinner is about to be shown: loading it costs about a tenth of the
 * client's start-up, and most commands never spin.
 */
import type { Ora } from 'ora'
import { displayText } from '../../../protocol/client.js'

const SHOW_AFTER_MS = 300

export async function withSpinner<T>(
  stream: NodeJS.WritableStream,
  enabled: boolean,
  text: string,
  work: Promise<T>,
): Promise<T> {
  if (!enabled) return work
  let spinner: Ora | undefined
  let done = false
  const timer = setTimeout(() => {
    import('ora')
      .then(({ default: ora }) => {
        if (!done) spinner = ora({ text: displayText(text), stream }).start() // `text` may quote a name
      })
      .catch(() => {}) // a spinner is decoration: without it the wait is only quieter
  }, SHOW_AFTER_MS)
  try {
    return await work
  } finally {
    done = true
    clearTimeout(timer)
    if (spinner?.isSpinning) spinner.stop()
  }
}
