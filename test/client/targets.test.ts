// The shared reading of a remote argument (index or name), against a real server on port 0 with a
// real client connection and a remembered listing in a temp config directory.
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Connection } from '../../src/client/connection.js'
import { listingCachePath, rememberListing } from '../../src/client/listing-cache.js'
import { checkRemoteArgument, resolveRemote } from '../../src/client/targets.js'
import { TandemError } from '../../src/protocol/index.js'
import { startServer, tempDir } from '../helpers/index.js'

const open: Connection[] = []
afterEach(async () => {
  for (const conn of open.splice(0)) await conn.close()
})

async function setup(names: string[]) {
  const server = await startServer({ name: 'A' })
  const conn = await connect({ host: server.host, port: server.port, clientId: 'targets-test' })
  open.push(conn)
  for (const name of names) await conn.create(name, Buffer.from(name))
  const ctx = { listingCacheFile: listingCachePath(path.join(tempDir(), 'config')) }
  return { conn, ctx }
}

async function failure(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof TandemError)) throw new Error(`expected a TandemError, got ${String(err)}`)
  return { code: err.code, message: err.message }
}

describe('resolveRemote', () => {
  it('reads a number as an index into the current listing, and a name as itself', async () => {
    const { conn, ctx } = await setup(['a.txt', 'b.txt', '7'])
    // The listing is sorted by name: '7', 'a.txt', 'b.txt'.
    expect(await resolveRemote(ctx, conn, '1')).toBe('a.txt')
    expect(await resolveRemote(ctx, conn, '0')).toBe('7')
    expect(await resolveRemote(ctx, conn, 'b.txt')).toBe('b.txt')
    expect(await resolveRemote(ctx, conn, 'not-there.txt')).toBe('not-there.txt')
    // --name: a numeric argument is a name, even one that is no file.
    expect(await resolveRemote(ctx, conn, '7', { asName: true })).toBe('7')
    expect(await resolveRemote(ctx, conn, '2', { asName: true })).toBe('2')
  })

  it('accepts an index that still names what ls showed there', async () => {
    const { conn, ctx } = await setup(['a.txt', 'b.txt'])
    await rememberListing(ctx.listingCacheFile, conn.address, ['a.txt', 'b.txt'])
    await conn.create('c.txt', Buffer.from('c')) // after the end: indices 0 and 1 do not move
    expect(await resolveRemote(ctx, conn, '1')).toBe('b.txt')
    expect(await resolveRemote(ctx, conn, '2')).toBe('c.txt') // not seen: the current listing
  })

  it('refuses an index that names another file now, naming both', async () => {
    const { conn, ctx } = await setup(['b.txt', 'c.txt'])
    await rememberListing(ctx.listingCacheFile, conn.address, ['b.txt', 'c.txt'])
    await conn.create('a.txt', Buffer.from('a')) // sorts first: every index moves
    expect(await failure(resolveRemote(ctx, conn, '1'))).toEqual({
      code: 'ERR_LISTING_CHANGED',
      message:
        "the listing changed: ls showed 'c.txt' at index 1, now it is 'b.txt' (list again, or give the name)",
    })
    await conn.delete('a.txt')
    await conn.delete('c.txt')
    expect(await failure(resolveRemote(ctx, conn, '1'))).toEqual({
      code: 'ERR_LISTING_CHANGED',
      message:
        "the listing changed: ls showed 'c.txt' at index 1, now it is past the end of the listing (list again, or give the name)",
    })
    // Another server's remembered listing does not count for this one.
    await rememberListing(ctx.listingCacheFile, '127.0.0.1:1', ['x', 'y'])
    expect(await resolveRemote(ctx, conn, '0')).toBe('b.txt')
  })

  it('says how long the listing is for an index past its end', async () => {
    const { conn, ctx } = await setup(['only.txt'])
    expect(await failure(resolveRemote(ctx, conn, '3'))).toEqual({
      code: 'ERR_NOT_FOUND',
      message: 'no file at index 3 (the listing has 1 file; indices start at 0)',
    })
    await conn.create('two.txt', Buffer.from('2'))
    expect((await failure(resolveRemote(ctx, conn, '2'))).message).toBe(
      'no file at index 2 (the listing has 2 files; indices start at 0)',
    )
  })

  it('refuses an empty argument and a number too large to be an index, before asking', async () => {
    const { conn, ctx } = await setup([])
    const huge = '99999999999999999999'
    expect(await failure(resolveRemote(ctx, conn, huge))).toEqual({
      code: 'ERR_USAGE',
      message: `'${huge}' is not an index (too large); use --name for a name`,
    })
    expect(() => checkRemoteArgument('')).toThrow(/give an index from ls, or a name/)
    expect(() => checkRemoteArgument(huge, { asName: true })).not.toThrow()
    expect(await resolveRemote(ctx, conn, huge, { asName: true })).toBe(huge)
  })
})
