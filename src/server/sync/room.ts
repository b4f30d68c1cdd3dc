/**
 * Space before content: a version that cannot fit on this disk is not fetched at all (it would
 * fill the disk, fail, and take the space the smaller ones need); it is set aside with the bytes
 * it needs, and tried again when space is freed.
 */
import { statfsSync } from 'node:fs'
import { TandemError } from '../../protocol/errors.js'
import { humanSize } from '../../protocol/units.js'
import { FreshCheck } from './fresh-check.js'

/** Bytes that an unprivileged writer may still use on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  // A read-only look-up: synchronous (see disk-probe.ts), a few microseconds.
  const st = statfsSync(dir)
  return st.bavail * st.bsize
}

// Per folder: the actions of a burst ask together, and share one statfs (fresh-check.ts).
const checks = new Map<string, FreshCheck<number>>()

function freshFreeBytes(dir: string): Promise<number> {
  let check = checks.get(dir)
  if (!check) {
    check = new FreshCheck(() => freeBytes(dir))
    checks.set(dir, check)
  }
  return check.get()
}

/** Throws ERR_NO_SPACE, naming what is needed and what is free, when `bytes` cannot fit. */
export async function ensureRoom(dir: string, bytes: number, name: string): Promise<void> {
  if (bytes === 0) return
  const free = await freshFreeBytes(dir).catch(() => Number.POSITIVE_INFINITY) // unknown: just try
  if (bytes <= free) return
  throw new TandemError(
    'ERR_NO_SPACE',
    `no space for '${name}' here: it needs ${humanSize(bytes)}, ${humanSize(free)} free`,
  )
}
