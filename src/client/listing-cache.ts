/**
 * The names of the last listing `ls` printed, per server address, kept in the client's config
 * directory. `lock 3` sends the name it finds at index 3 as `expect`, so that the server can
 * refuse with ERR_LISTING_CHANGED when its listing moved on since the person read it.
 *
 * It is a cache: a missing, unreadable or malformed file means "no listing remembered", and a
 * failed write is ignored. Writes go to a temp file in the same directory and are renamed over
 * the old one, so a reader never sees half a file; when two `ls` run at once, the last wins.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

const FORMAT = 1
/** Addresses remembered at most; the least recently listed are dropped. */
const MAX_SERVERS = 16

interface Remembered {
  /** When the listing was printed (ms since the epoch). */
  savedAt: number
  names: string[]
}

interface CacheFile {
  format: typeof FORMAT
  servers: Record<string, Remembered>
}

/** The cache file inside the client's config directory. */
export function listingCachePath(configDir: string): string {
  return path.join(configDir, 'listings.json')
}

/** The names of the last listing printed for `address`, in index order; undefined if none. */
export async function recallListing(file: string, address: string): Promise<string[] | undefined> {
  const cache = await readCache(file)
  return cache.servers[address]?.names
}

/** Remember `names` (in index order) as the last listing printed for `address`. Best effort. */
export async function rememberListing(
  file: string,
  address: string,
  names: readonly string[],
  now = Date.now(),
): Promise<void> {
  try {
    const cache = await readCache(file)
    cache.servers[address] = { savedAt: now, names: [...names] }
    const kept = Object.entries(cache.servers)
      .sort(([, a], [, b]) => b.savedAt - a.savedAt)
      .slice(0, MAX_SERVERS)
    await writeAtomically(
      file,
      JSON.stringify({ format: FORMAT, servers: Object.fromEntries(kept) }),
    )
  } catch {
    // A read-only or full config directory only costs the ERR_LISTING_CHANGED check.
  }
}

async function readCache(file: string): Promise<CacheFile> {
  const empty: CacheFile = { format: FORMAT, servers: {} }
  let parsed: unknown
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'))
  } catch {
    return empty
  }
  if (!isRecord(parsed) || parsed.format !== FORMAT || !isRecord(parsed.servers)) return empty
  const servers: Record<string, Remembered> = {}
  for (const [address, entry] of Object.entries(parsed.servers)) {
    if (isRemembered(entry)) servers[address] = entry
  }
  return { format: FORMAT, servers }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isRemembered(value: unknown): value is Remembered {
  return (
    isRecord(value) &&
    typeof value.savedAt === 'number' &&
    Array.isArray(value.names) &&
    value.names.every((name) => typeof name === 'string')
  )
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`
  try {
    await fs.writeFile(temp, text, { mode: 0o600 })
    await fs.rename(temp, file)
  } catch (err) {
    await fs.rm(temp, { force: true })
    throw err
  }
}
