/**
 * Progress of long transfers on a terminal: a cli-progress bar on stderr with bytes and speed. It
 * appears only after a short delay (small files finish without flicker) and is cleared at the end,
 * so the final summary line stands alone. When disabled (output piped), it draws nothing.
 */
import { createRequire } from 'node:module'
import type cliProgress from 'cli-progress'
import { displayText } from '../../../protocol/client.js'
import { humanSize, humanSpeed } from './format.js'

const SHOW_AFTER_MS = 300

export interface ProgressDisplay {
  update(done: number, total: number, label?: string): void
  stop(): void
}

const NO_PROGRESS: ProgressDisplay = { update() {}, stop() {} }

export function createProgress(
  stream: NodeJS.WritableStream,
  enabled: boolean,
  label: string,
): ProgressDisplay {
  if (!enabled) return NO_PROGRESS
  const started = Date.now()
  let bar: cliProgress.SingleBar | undefined
  const payload = (done: number, total: number, name: string) => ({
    label: displayText(name), // a file name: escaped
    done: humanSize(done),
    all: humanSize(total),
    speed: humanSpeed(done, Date.now() - started),
  })
  return {
    update(done, total, name = label) {
      if (!bar) {
        if (Date.now() - started < SHOW_AFTER_MS) return
        // Loaded once a bar is shown, not at start (start-up time of every command).
        const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof cliProgress
        bar = new SingleBar({
          stream,
          format: '{bar} {percentage}%  {done} / {all}  {speed}  {label}',
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          fps: 10,
        })
        bar.start(total, done, payload(done, total, name))
        return
      }
      bar.setTotal(total)
      bar.update(done, payload(done, total, name))
    },
    stop() {
      bar?.stop()
      bar = undefined
    },
  }
}
