/**
 * Test data, made once per run set: random bytes (crypto.randomFillSync into one reused buffer),
 * so no layer can compress or deduplicate them.
 */
import { createHash, randomFillSync } from 'node:crypto'
import {
  closeSync,
  linkSync,
  copyFileSync,
  openSync,
  writeSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'

const CHUNK = 4 * 1024 * 1024 // 4 MiB

/**
 * Write `size` random bytes to `file`; with `sha256`, returns their SHA-256 (hex), else null.
 * @param {string} file @param {number} size @param {{ sha256?: boolean }} [options]
 */
export function writeRandomFile(file, size, options = {}) {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, size))
  const hash = options.sha256 ? createHash('sha256') : null
  const fd = openSync(file, 'w')
  try {
    for (let done = 0; done < size;) {
      const n = Math.min(buffer.length, size - done)
      randomFillSync(buffer, 0, n)
      hash?.update(buffer.subarray(0, n))
      done += writeSync(fd, buffer, 0, n)
    }
  } finally {
    closeSync(fd)
  }
  return hash ? hash.digest('hex') : null
}

/**
 * `count` files of `size` random bytes in `dir` (f0000.bin, f0001.bin, …); returns their names
 * and contents (kept for the baseline, which writes them from memory).
 */
export function writeSmallFiles(
  /** @type {string} */ dir,
  /** @type {number} */ count,
  /** @type {number} */ size,
) {
  mkdirSync(dir, { recursive: true })
  const all = Buffer.allocUnsafe(count * size)
  randomFillSync(all)
  return Array.from({ length: count }, (_, i) => {
    const name = `f${String(i).padStart(4, '0')}.bin`
    const data = all.subarray(i * size, (i + 1) * size)
    writeFileSync(path.join(dir, name), data)
    return { name, data }
  })
}

/** Put `source` at `target` without copying bytes when the file system allows (a hard link). */
export function placeFile(/** @type {string} */ source, /** @type {string} */ target) {
  try {
    linkSync(source, target)
  } catch {
    copyFileSync(source, target)
  }
}
