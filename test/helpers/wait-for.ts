export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number
  /** Time between checks (default 25 ms). */
  intervalMs?: number
  /** Said in the error when the deadline passes. */
  what?: string
}

/** What a truthy check leaves of T. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>

/**
 * Poll `predicate` until it returns a truthy value (which is returned) or the deadline passes
 * (which throws, naming `what` and the last error the predicate threw, if any).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Truthy<T>> {
  const { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = options
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await predicate()
      if (value) return value as Truthy<T>
    } catch (err) {
      lastError = err
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : `; last error: ${String(lastError)}`
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** Settle as `promise` does, or reject if it takes longer than `timeoutMs`. */
export function deadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    )
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
