/**
 * Small disks for the full-disk tests: a tmpfs mounted on a test's own folder (needs root, as CI
 * runs), unmounted when the test ends, and remounted bigger when the test frees space.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { registerCleanup } from './cleanup.js'

/** Can this process mount a tmpfs (root, and a kernel that lets it)? */
export function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false
  const probe = fs.mkdtempSync('/tmp/tandem-mount-probe-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' })
    execFileSync('umount', [probe], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    fs.rmdirSync(probe)
  }
}

/**
 * Mount a tmpfs of `sizeMiB` on `dir`, unmounted when the test ends. Cleanups run newest first:
 * servers started after this (as startCluster's `beforeStart` does) stop before it.
 */
export function mountTmpfs(dir: string, sizeMiB: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir])
  registerCleanup(() => {
    execFileSync('umount', ['-l', dir])
  })
}

/** Give the tmpfs on `dir` a new size (its files stay). */
export function resizeTmpfs(dir: string, sizeMiB: number): void {
  execFileSync('mount', ['-o', `remount,size=${sizeMiB}m`, dir])
}
