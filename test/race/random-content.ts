/**
 * Self-describing bodies for the random-operations test, so that any byte string read back can be
 * explained: an upload's body is a header naming it plus filler derived from its id; an append is
 * one line naming it. A file's content is therefore one upload's body followed by whole lines.
 */

/** A small seeded generator (mulberry32): the same seed gives the same run of operations. */
export class Random {
  #state: number
  constructor(seed: number) {
    this.#state = seed >>> 0
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(below: number): number {
    return Math.floor(this.next() * below)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
}

/** Sizes: mostly small, some spanning several data frames. */
export function uploadSize(rng: Random): number {
  const roll = rng.next()
  if (roll < 0.8) return rng.int(200)
  if (roll < 0.95) return 1024 + rng.int(63 * 1024)
  return 300 * 1024 + rng.int(400 * 1024)
}

export function uploadBody(uid: string, size: number): Buffer {
  const header = Buffer.from(`UPLOAD ${uid} ${size}\n`)
  const filler = Buffer.alloc(size, `${uid};`)
  return Buffer.concat([header, filler, Buffer.from('\n')])
}

export function appendBody(aid: string): Buffer {
  return Buffer.from(`APPEND ${aid}\n`)
}

export type Parsed = { uid: string; appends: string[] } | { error: string }

/** Explain `content` as one known upload's body followed by append lines. */
export function parseContent(content: Buffer, bodies: ReadonlyMap<string, Buffer>): Parsed {
  const newline = content.indexOf(0x0a)
  const header = /^UPLOAD (\S+) (\d+)$/.exec(
    content.subarray(0, Math.max(0, newline)).toString('latin1'),
  )
  if (!header)
    return {
      error: `no upload header: ${JSON.stringify(content.subarray(0, 60).toString('latin1'))}`,
    }
  const uid = header[1]!
  const body = bodies.get(uid)
  if (!body) return { error: `unknown upload ${uid}` }
  if (content.length < body.length || !content.subarray(0, body.length).equals(body)) {
    return {
      error: `upload ${uid} is torn or mixed (${content.length} bytes, body ${body.length})`,
    }
  }
  const rest = content.subarray(body.length).toString('latin1')
  if (rest !== '' && !rest.endsWith('\n'))
    return { error: `upload ${uid}: a partial append line at the end` }
  const appends: string[] = []
  for (const line of rest === '' ? [] : rest.slice(0, -1).split('\n')) {
    const match = /^APPEND (\S+)$/.exec(line)
    if (!match)
      return { error: `upload ${uid}: not an append line: ${JSON.stringify(line.slice(0, 60))}` }
    appends.push(match[1]!)
  }
  return { uid, appends }
}
