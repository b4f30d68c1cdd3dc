/**
 * Ctrl+C during a long transfer: end the connection, so that the transfer fails the normal way
 * (a partial download's temp file is removed, the progress bar is stopped by its `finally`), and
 * report it as an interruption rather than leaving a hidden cursor and temp files behind.
 */
import { TandemError } from '../../protocol/index.js'
import type { Connection } from '../connection.js'

export async function interruptible<T>(conn: Connection, run: () => Promise<T>): Promise<T> {
  let interrupted = false
  const onSigint = (): void => {
    interrupted = true
    conn.destroy()
  }
  process.once('SIGINT', onSigint)
  try {
    return await run()
  } catch (err) {
    if (interrupted) throw new TandemError('ERR_CONNECTION_CLOSED', 'interrupted (Ctrl+C)')
    throw err
  } finally {
    process.off('SIGINT', onSigint)
  }
}
