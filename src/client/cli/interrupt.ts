/**
 * Ctrl+C on the command line. main.ts catches SIGINT for every command (but the menu, which has
 * its own): it cuts the connection, so that a transfer fails the normal way (a partial download's
 * temp file is removed, the progress bar is stopped by its `finally`), ends a wait for a busy
 * server, and exits with 130 (128 + SIGINT, what a shell reports for a process that Ctrl+C
 * stopped) after one `error: ERR_INTERRUPTED: ...` line.
 */
import { TandemError } from '../../protocol/client.js'
import { interruptAgain } from '../signals.js'

/** The exit status of a command stopped by Ctrl+C. */
export const EXIT_INTERRUPTED = 130

export function interruptedError(): TandemError {
  return new TandemError('ERR_INTERRUPTED', 'interrupted (Ctrl+C)')
}

/**
 * Run `work`; on Ctrl+C call `stop` and settle as soon as `work` has (it should end quickly
 * once stopped), or after `graceMs` if it does not. Resolves to `{ interrupted }` with what
 * `work` did; a second Ctrl+C while waiting ends the process at once.
 */
export async function runInterruptibly<T>(
  work: () => Promise<T>,
  stop: () => void,
  graceMs: number,
): Promise<{ interrupted: false; value: T } | { interrupted: true }> {
  let onInterrupt: (() => void) | undefined
  const interrupted = new Promise<void>((resolve) => (onInterrupt = resolve))
  let count = 0
  const onSigint = (): void => {
    count += 1
    if (count > 1) return interruptAgain(onSigint)
    stop()
    onInterrupt?.()
  }
  process.on('SIGINT', onSigint)
  const running = work()
  try {
    const first = await Promise.race([
      running.then((value) => ({ done: true as const, value })),
      interrupted.then(() => ({ done: false as const })),
    ])
    if (first.done && count === 0) return { interrupted: false, value: first.value }
    // Let the command's own cleanup (temp files, progress bar) finish, within the grace.
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))
    await Promise.race([running.then(noop, noop), grace])
    clearTimeout(timer)
    return { interrupted: true }
  } finally {
    process.off('SIGINT', onSigint)
  }
}

function noop(): void {}

/**
 * The connection cut by Ctrl+C: a transfer in `run` fails the normal way and the error says it
 * was an interruption (main.ts reports it so, with status 130).
 */
export async function interruptible<T>(
  conn: { destroy(): void },
  run: () => Promise<T>,
): Promise<T> {
  let interrupted = false
  const onSigint = (): void => {
    interrupted = true
    conn.destroy()
  }
  process.once('SIGINT', onSigint)
  try {
    return await run()
  } catch (err) {
    if (interrupted) throw interruptedError()
    throw err
  } finally {
    process.off('SIGINT', onSigint)
  }
}
