/** Signals, as the command line and the menu share them. */

/**
 * A second Ctrl+C, when the first has not stopped things yet: SIGINT's default action, which ends
 * the process at once (a shell reports 130 for it), without our handlers in the way.
 */
export function interruptAgain(handler: () => void): void {
  process.off('SIGINT', handler)
  process.kill(process.pid, 'SIGINT')
}
