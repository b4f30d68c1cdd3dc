// A download of a file whose SHA-256 the server already knows (it wrote that version, or its index
// has the hash for the same size, mtime and inode) is sent without hashing it again: the end frame
// carries the known hash and the client checks the bytes against it. These try to break that: the
// bytes must still arrive whole and checked, and a file rewritten in place under the same
// fingerprint while the server was down must fail loudly (ERR_INTEGRITY, nothing left behind)
// rather than arrive unchecked.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Connection } from '../../src/client/connection.js'
import { downloadFile, uploadFile } from '../../src/client/transfer.js'
import { startServer, tempDir, waitFor, type ServerHandle } from '../helpers/index.js'

const MiB = 1024 * 1024
let server: ServerHandle | undefined
let conn: Connection | undefined

afterEach(async () => {
  await conn?.close().catch(() => undefined)
  await server?.stop()
  conn = server = undefined
})

/** The hash the index holds for `name` with the inode it was indexed at, once it has one. */
function indexed(stateDir: string, name: string): { hash: string; ino: number } | undefined {
  const file = path.join(stateDir, 'index.db')
  if (!existsSync(file)) return undefined
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const row = db
      .prepare('SELECT hash, fp_ino AS ino FROM files WHERE name = ? AND deleted = 0')
      .get(name) as { hash: string | null; ino: number | null } | undefined
    return row?.hash && row.ino !== null ? { hash: row.hash, ino: row.ino } : undefined
  } finally {
    db.close()
  }
}

describe('downloads with a known SHA-256', () => {
  it('a file this server stored arrives whole and checked, again and again', async () => {
    server = await startServer()
    conn = await connect({ host: '127.0.0.1', port: server.port, clientId: 'known' })
    const local = tempDir()
    const body = randomBytes(3 * MiB + 17)
    writeFileSync(path.join(local, 'src.bin'), body)
    expect((await uploadFile(conn, path.join(local, 'src.bin'), 'big.bin')).size).toBe(body.length)
    for (let i = 0; i < 3; i++) {
      const target = path.join(local, `copy-${i}.bin`)
      const result = await downloadFile(conn, 'big.bin', target)
      expect(readFileSync(target).equals(body), `download ${i}`).toBe(true)
      expect(result.sha256).toBe(createHash('sha256').update(body).digest('hex'))
    }
  })

  it('a file rewritten in place under its indexed fingerprint fails with ERR_INTEGRITY', async () => {
    server = await startServer()
    const { root, stateDir } = server
    const file = path.join(root, 'inplace.bin')
    const before = randomBytes(2 * MiB)
    writeFileSync(file, before)
    const mtime = Math.floor(Date.now() / 1000) - 60 // whole seconds: set back exactly below
    utimesSync(file, mtime, mtime)
    const stat = statSync(file)
    // The scanner has indexed it (hash and inode), from another program's write.
    await waitFor(() => indexed(stateDir, 'inplace.bin')?.ino === stat.ino, {
      what: 'the file indexed',
    })
    conn = await connect({ host: '127.0.0.1', port: server.port, clientId: 'inplace' })
    const local = tempDir()
    await downloadFile(conn, 'inplace.bin', path.join(local, 'first.bin'))
    expect(readFileSync(path.join(local, 'first.bin')).equals(before)).toBe(true)

    // While the server is down, another program rewrites it in place, same size, and sets the
    // mtime back: the fingerprint (size, mtime, inode) the index trusts is unchanged, the bytes
    // are not. (A running server's watcher sees the write itself and hashes the file again.)
    await conn.close()
    await server.stop()
    const after = randomBytes(2 * MiB)
    writeFileSync(file, after, { flag: 'r+' })
    utimesSync(file, mtime, mtime)
    expect(statSync(file).mtimeMs).toBe(stat.mtimeMs)
    expect(statSync(file).ino).toBe(stat.ino)
    server = await startServer({ root, stateDir })
    conn = await connect({ host: '127.0.0.1', port: server.port, clientId: 'inplace' })
    const target = path.join(local, 'second.bin')
    const error = await downloadFile(conn, 'inplace.bin', target).catch((err: unknown) => err)
    expect((error as { code?: string }).code).toBe('ERR_INTEGRITY')
    expect(existsSync(target), 'no target from a download that did not check out').toBe(false)
    expect(readdirSync(local).sort()).toEqual(['first.bin'])

    // Once its mtime moves, it is hashed as it is sent, and arrives.
    utimesSync(file, new Date(), new Date())
    await downloadFile(conn, 'inplace.bin', target)
    expect(readFileSync(target).equals(after)).toBe(true)
  })
})
