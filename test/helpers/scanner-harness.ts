/**
 * A Scanner on a real temp directory and a real index.db, as server A, with every file settled at
 * once (its clock a second ahead) and nothing busy: for unit tests of what the scanner records.
 */
import fs from 'node:fs'
import { openIndexDb } from '../../src/server/index/database.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir } from './temp-dir.js'

export function scannerHarness(prefix = 'tandem-scanner-') {
  const base = tempDir(prefix)
  fs.mkdirSync(`${base}/root`)
  const db = openIndexDb(`${base}/state`)
  const index = new FileIndex(db)
  const refused: string[] = []
  const scanner = new Scanner({
    root: `${base}/root`,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: (reason) => refused.push(reason),
    warn: () => undefined,
    now: () => Date.now() + 1_000, // every file is settled
  })
  const close = () => {
    scanner.stop()
    db.close()
  }
  return { root: `${base}/root`, index, scanner, refused, close }
}
