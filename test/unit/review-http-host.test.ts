// Review: the main thread's HttpHost when its worker dies before it listens. Built over a real
// ServerCore (lock manager, change log, console, admission); the host is imported from src, where
// its worker's entry (./worker.js) does not exist, so the worker dies at once at startup, as one
// whose buildApp throws (an unreadable web/, a plugin that fails to register) would.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../src/server/config.js'
import { ServerConsole } from '../../src/server/console.js'
import { ServerCore } from '../../src/server/core.js'
import { HttpHost } from '../../src/server/http/host.js'
import { LockManager } from '../../src/server/locks/lock-manager.js'
import { Admission } from '../../src/server/net/admission.js'
import { ChangeLog } from '../../src/server/state/change-log.js'
import { openDatabase } from '../../src/server/state/database.js'
import { registerCleanup } from '../helpers/cleanup.js'
import { tempDir } from '../helpers/temp-dir.js'

describe('review: HttpHost', () => {
  it('start() settles (rejects) when the HTTP worker dies before it listens', async () => {
    const base = tempDir('review-host-')
    const root = path.join(base, 'root')
    const stateDir = path.join(base, 'state')
    mkdirSync(root)
    mkdirSync(stateDir)
    const config = resolveConfig({ root, stateDir, port: 0, name: 'A' })
    const db = openDatabase(stateDir)
    const changeLog = new ChangeLog(db, 'A', () => undefined)
    registerCleanup(() => void db.close())
    const lines: string[] = []
    const core = new ServerCore(
      config,
      new LockManager(),
      changeLog,
      new ServerConsole('A', (text) => void lines.push(text)),
      new Admission(9),
    )
    const started = HttpHost.start(core, 0).then(
      () => 'listening',
      () => 'rejected',
    )
    const outcome = await Promise.race([
      started,
      new Promise((resolve) => setTimeout(() => resolve('still pending after 2 s'), 2_000)),
    ])
    // The worker is gone: start() must reject (the server's startup then fails), not hang.
    expect(outcome, lines.join('')).toBe('rejected')
  })
})
