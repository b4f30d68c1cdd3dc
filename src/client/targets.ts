/**
 * A remote argument as the person typed it → the name it stands for. Every command that takes a
 * remote name goes through here, so that `cat 5`, `get 5`, `rm 5`, `mv 5 new.txt` and `lock 5`
 * read a number the same way: an index (from 0) into the server's composite listing, checked
 * against the listing `ls` last printed for this server. A file that moved to another index since
 * then is never acted on by mistake: the index must still name the file the person saw there.
 * `--name` (asName) reads a numeric argument as a name.
 *
 * It takes any context with the listing cache's path (the CLI's CliContext is one), so that it
 * depends on nothing of the command line.
 */
import { TandemError } from '../protocol/client.js'
import type { Connection } from './connection.js'
import { recallListing } from './listing-cache.js'

export interface TargetContext {
  /** Where `ls` remembers the names it printed (see listing-cache.ts). */
  readonly listingCacheFile: string
}

export interface ResolveOptions {
  /** Read a numeric argument as a name (`--name`). */
  asName?: boolean
  /** The server's listing, when the command has just fetched it (else it is fetched here). */
  listing?: readonly { name: string }[]
}

const DIGITS = /^\d+$/

/** True when `argument` is read as a listing index (all digits, and not forced to be a name). */
export function isIndexArgument(argument: string, options: ResolveOptions = {}): boolean {
  return options.asName !== true && DIGITS.test(argument)
}

/**
 * Refuse what cannot be a target, before connecting: an empty argument, or a number too large to
 * be an index. ERR_USAGE (the command line exits 2 for it).
 */
export function checkRemoteArgument(argument: string, options: ResolveOptions = {}): void {
  if (argument === '') throw new TandemError('ERR_USAGE', 'give an index from ls, or a name')
  if (isIndexArgument(argument, options) && !Number.isSafeInteger(Number(argument)))
    throw new TandemError(
      'ERR_USAGE',
      `'${argument}' is not an index (too large); use --name for a name`,
    )
}

/**
 * The name `argument` stands for at the server `conn` is connected to. A name comes back as given
 * (the server checks it); an index is looked up in the server's current listing.
 *
 * ERR_LISTING_CHANGED when `ls` last showed another name at that index (naming both), ERR_NOT_FOUND
 * when the index is past the end, ERR_USAGE for a number too large to be an index.
 */
export async function resolveRemote(
  ctx: TargetContext,
  conn: Connection,
  argument: string,
  options: ResolveOptions = {},
): Promise<string> {
  const [name] = await resolveRemotes(ctx, conn, [argument], options)
  return name!
}

/**
 * Several arguments, all read against one listing before anything is done with any of them: a
 * command that changes the listing as it goes (`rm 1 3`) must not read its later indices in a
 * listing its earlier arguments have already shifted.
 */
export async function resolveRemotes(
  ctx: TargetContext,
  conn: Connection,
  args: readonly string[],
  options: ResolveOptions = {},
): Promise<string[]> {
  for (const argument of args) checkRemoteArgument(argument, options)
  if (!args.some((argument) => isIndexArgument(argument, options))) return [...args]
  const [files, seen] = await Promise.all([
    options.listing ?? conn.list().then((listing) => listing.files),
    recallListing(ctx.listingCacheFile, conn.address),
  ])
  return args.map((argument) =>
    isIndexArgument(argument, options) ? atIndex(Number(argument), files, seen) : argument,
  )
}

function atIndex(
  index: number,
  files: readonly { name: string }[],
  seen: readonly string[] | undefined,
): string {
  const now = files[index]?.name
  const before = seen?.[index]
  if (before !== undefined && now !== before) {
    const there = now === undefined ? 'past the end of the listing' : `'${now}'`
    throw new TandemError(
      'ERR_LISTING_CHANGED',
      `the listing changed: ls showed '${before}' at index ${index}, now it is ${there} (list again, or give the name)`,
    )
  }
  if (now === undefined)
    throw new TandemError(
      'ERR_NOT_FOUND',
      `no file at index ${index} (the listing has ${files.length} ${files.length === 1 ? 'file' : 'files'}; indices start at 0)`,
    )
  return now
}
