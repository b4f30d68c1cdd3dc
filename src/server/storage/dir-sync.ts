/**
 * fsync of directories, coalesced: a rename is durable once its directory is fsynced, and one
 * fsync that starts after several renames covers them all. Callers that arrive while a sync of the
 * same directory runs share the next one (which starts after they arrived), so many small files
 * published at once cost a few directory syncs instead of one each.
 */
import { closeSync, fsync, openSync } from 'node:fs'

type Waiter = { resolve: () => void; reject: (err: unknown) => void }

const waiting = new Map<string, Waiter[]>()
const active = new Set<string>()

export function fsyncDir(dir: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const list = waiting.get(dir)
    if (list) list.push({ resolve, reject })
    else waiting.set(dir, [{ resolve, reject }])
    if (!active.has(dir)) void pump(dir)
  })
}

async function pump(dir: string): Promise<void> {
  active.add(dir)
  for (let batch = waiting.get(dir); batch && batch.length > 0; batch = waiting.get(dir)) {
    waiting.delete(dir)
    try {
      await syncOnce(dir)
      for (const waiter of batch) waiter.resolve()
    } catch (err) {
      for (const waiter of batch) waiter.reject(err)
    }
  }
  active.delete(dir)
}

/**
 * open and close are synchronous (read-only, microseconds); only the fsync waits in libuv's pool,
 * where the file fsyncs of the same commits are.
 */
async function syncOnce(dir: string): Promise<void> {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch (err) {
    // Removed since (pruned after a later delete): nothing of ours is left in it to make durable.
    if ((err as { code?: string }).code === 'ENOENT') return
    throw err
  }
  try {
    await new Promise<void>((resolve, reject) =>
      fsync(fd, (err) => (err ? reject(err) : resolve())),
    )
  } finally {
    closeSync(fd)
  }
}
