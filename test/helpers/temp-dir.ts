import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { registerCleanup } from './cleanup.js'

/** A fresh directory under the system temp dir, removed when the test (or file) is done. */
export function tempDir(prefix = 'tandem-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  registerCleanup(() => rmSync(dir, { recursive: true, force: true, maxRetries: 3 }))
  return dir
}
