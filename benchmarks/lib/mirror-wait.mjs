/**
 * How the benchmark sees that a change has reached the other server: by looking at that server's
 * directory from outside, as a user would, every few milliseconds (stat + read + compare). Every
 * wait has a deadline and returns the performance.now() of the poll that first saw the expected
 * state, plus when something first changed, so that "appeared" and "complete" can be told apart.
 */
import { createHash } from 'node:crypto'
import { readFileSync, readSync, readdirSync, statSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

/** @typedef {{ done: number, first: number | null, polls: number, timedOut: boolean }} WaitResult */

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** The file's bytes, or null if it does not exist (or is not a file, or vanished mid-read). */
function readOrNull(/** @type {string} */ file) {
  try {
    return readFileSync(file)
  } catch {
    return null
  }
}

/**
 * The pause before the next poll: `intervalMs`, or 1 % of the time waited so far if that is more,
 * so that a long wait is still timed to within about 1 % but a slow mirror of 10,000 files is not
 * slowed further by the benchmark listing B's folder every few milliseconds on a 2-core machine.
 * @param {number} intervalMs @param {number} waitedMs
 */
function pause(intervalMs, waitedMs) {
  return Math.max(intervalMs, Math.min(waitedMs / 100, 1000))
}

/**
 * Poll `check` every `intervalMs` (see pause()) until it returns true or `timeoutMs` passes.
 * `check` may call `seen()` the first time it notices any change, which is recorded as `first`.
 * @param {(seen: () => void) => boolean} check
 * @param {{ intervalMs?: number, timeoutMs?: number }} [options]
 * @returns {Promise<WaitResult>}
 */
export async function pollUntil(check, { intervalMs = 1, timeoutMs = 10_000 } = {}) {
  const start = performance.now()
  /** @type {number | null} */
  let first = null
  let polls = 0
  for (;;) {
    const now = performance.now()
    polls++
    const seen = () => {
      first ??= now
    }
    if (check(seen)) return { done: now, first: first ?? now, polls, timedOut: false }
    if (now - start > timeoutMs) return { done: now, first, polls, timedOut: true }
    await sleep(pause(intervalMs, now - start))
  }
}

/**
 * `file` holds exactly `expected`. `previous` (the content before a modify) is not counted as a
 * change when recording `first`.
 * @param {string} file @param {Buffer} expected @param {Buffer | null} [previous]
 */
export function waitContent(file, expected, previous = null, timeoutMs = 10_000) {
  return pollUntil(
    (seen) => {
      const data = readOrNull(file)
      if (data === null) return false
      if (previous === null || !data.equals(previous)) seen()
      return data.equals(expected)
    },
    { timeoutMs },
  )
}

/** `file` no longer exists. @param {string} file */
export function waitGone(file, timeoutMs = 10_000) {
  return pollUntil(
    () => {
      try {
        statSync(file)
        return false
      } catch {
        return true
      }
    },
    { timeoutMs },
  )
}

/**
 * `to` holds `expected` and `from` is gone. `first` is when either half was first seen.
 * @param {string} from @param {string} to @param {Buffer} expected
 */
export function waitRenamed(from, to, expected, timeoutMs = 10_000) {
  return pollUntil(
    (seen) => {
      const data = readOrNull(to)
      let fromGone = false
      try {
        statSync(from)
      } catch {
        fromGone = true
      }
      if (data !== null || fromGone) seen()
      return fromGone && data !== null && data.equals(expected)
    },
    { timeoutMs },
  )
}

/**
 * Every file of `files` is in `dir` with its content. The directory is listed on each poll and a
 * file is read once its name appears; once identical it is not read again (a mirrored file is
 * only ever replaced by a rename, never rewritten in place).
 * @param {string} dir @param {{ name: string, data: Buffer }[]} files
 * @param {{ intervalMs?: number, timeoutMs?: number }} [options]
 */
export function waitTree(dir, files, { intervalMs = 5, timeoutMs = 120_000 } = {}) {
  const pending = new Map(files.map((f) => [f.name, f.data]))
  return pollUntil(
    (seen) => {
      let names
      try {
        names = readdirSync(dir)
      } catch {
        return false
      }
      for (const name of names) {
        const expected = pending.get(name)
        if (expected === undefined) continue
        seen()
        const data = readOrNull(path.join(dir, name))
        if (data !== null && data.equals(expected)) pending.delete(name)
      }
      return pending.size === 0
    },
    { intervalMs, timeoutMs },
  )
}

/**
 * A big `file` with `size` bytes and SHA-256 `sha256`. A poll only stats it; when the size is
 * right, the file is opened and hashed through that descriptor (outside the clock: the time
 * returned is that poll's). Tandem replaces files by rename, never in place, so the inode that had
 * the full size still holds the same bytes when it is hashed. The hash is read asynchronously so
 * that the benchmark still notices other events (such as `cp` exiting) on time meanwhile.
 * @param {string} file @param {number} size @param {string} sha256
 */
export async function waitBigFile(
  file,
  size,
  sha256,
  { intervalMs = 2, timeoutMs = 120_000 } = {},
) {
  const start = performance.now()
  /** @type {number | null} */
  let first = null
  let polls = 0
  let mismatches = 0
  let lastIno = -1
  for (;;) {
    const now = performance.now()
    polls++
    const handle = await fs.open(file, 'r').catch(() => null)
    if (handle !== null) {
      first ??= now
      try {
        const st = await handle.stat()
        if (st.size === size && st.ino !== lastIno) {
          lastIno = st.ino
          if ((await hashHandle(handle)) === sha256)
            return { done: now, first, polls, timedOut: false, mismatches }
          mismatches++
        }
      } finally {
        await handle.close()
      }
    }
    if (now - start > timeoutMs) return { done: now, first, polls, timedOut: true, mismatches }
    await sleep(pause(intervalMs, now - start))
  }
}

/** SHA-256 of everything behind an open file handle. @param {fs.FileHandle} handle */
async function hashHandle(handle) {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024)
  for (let pos = 0; ;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos)
    if (bytesRead === 0) return hash.digest('hex')
    hash.update(buffer.subarray(0, bytesRead))
    pos += bytesRead
  }
}

/** SHA-256 of everything behind `fd`, read synchronously in 4 MiB pieces. @param {number} fd */
export function hashFd(fd) {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(4 * 1024 * 1024)
  for (let pos = 0; ;) {
    const n = readSync(fd, buffer, 0, buffer.length, pos)
    if (n === 0) return hash.digest('hex')
    hash.update(buffer.subarray(0, n))
    pos += n
  }
}
