// Nine clients, 300 random operations each, over 20 shared names: the server never crashes, every
// download is a whole version, every acknowledged append lands at most once (exactly once where
// its file survives), and the final disk agrees with the model of acknowledged operations.
import { performance } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import {
  deadline,
  filesIn,
  startServer,
  tempFilesIn,
  TestClient,
  type Reply,
} from '../helpers/index.js'
import type { ListResult } from '../../src/protocol/index.js'
import { History, type OpKind, type OpRecord } from './history.js'
import { appendBody, parseContent, Random, uploadBody, uploadSize } from './random-content.js'

const CLIENTS = 9
const OPS_PER_CLIENT = Number(process.env.TANDEM_RACE_OPS ?? 300)
const SEED = Number(process.env.TANDEM_RACE_SEED ?? 20260501)
// Some names share folders, so that folders are created and pruned under the clients' feet.
const NAMES = Array.from({ length: 20 }, (_, i) =>
  i < 12 ? `f${i}.txt` : i < 17 ? `sub/f${i}.txt` : `sub/deep/f${i}.txt`,
)
const KINDS: [OpKind, number][] = [
  ['upload', 20],
  ['download', 20],
  ['append', 25],
  ['rename', 12],
  ['delete', 8],
  ['list', 15],
]
/** The error codes each operation may legitimately get in this test. */
const EXPECTED_ERRORS: Record<OpKind, string[]> = {
  upload: [],
  download: ['ERR_NOT_FOUND'],
  append: ['ERR_NOT_FOUND'],
  rename: ['ERR_NOT_FOUND', 'ERR_EXISTS'],
  delete: ['ERR_NOT_FOUND'],
  list: [],
}

function pickKind(rng: Random): OpKind {
  let roll = rng.int(100)
  for (const [kind, weight] of KINDS) if ((roll -= weight) < 0) return kind
  return 'list'
}

interface Run {
  ops: OpRecord[]
  /** Every upload body sent, by id (sent, not necessarily acknowledged). */
  bodies: Map<string, Buffer>
}

/** An answer, or NO_ANSWER if the server takes unreasonably long (a hang, not slowness). */
async function answer<T>(reply: Promise<Reply<T>>): Promise<Reply<T> | 'no answer'> {
  return deadline(reply, 30_000, 'an answer').catch(() => 'no answer' as const)
}

async function runClient(index: number, client: TestClient, run: Run): Promise<void> {
  const rng = new Random(SEED + index * 7919)
  for (let i = 0; i < OPS_PER_CLIENT; i++) {
    const kind = pickKind(rng)
    const name = rng.pick(NAMES)
    const op: OpRecord = { client: index, kind, send: 0, ack: 0, ok: false }
    let reply: Reply<unknown> | 'no answer'
    if (kind === 'upload') {
      op.name = name
      op.uid = `c${index}u${i}`
      const body = uploadBody(op.uid, uploadSize(rng))
      run.bodies.set(op.uid, body)
      op.send = performance.now()
      reply = await answer(client.upload(name, body))
    } else if (kind === 'append') {
      op.name = name
      op.aid = `c${index}a${i}`
      op.send = performance.now()
      reply = await answer(client.append(name, appendBody(op.aid)))
    } else if (kind === 'rename') {
      op.from = name
      op.to = rng.pick(NAMES.filter((n) => n !== name))
      op.send = performance.now()
      reply = await answer(client.rename(op.from, op.to))
    } else if (kind === 'list') {
      op.send = performance.now()
      reply = await answer(client.list())
      if (reply !== 'no answer' && reply.ok)
        op.names = (reply.result as ListResult).files.map((f) => f.name)
    } else {
      op.name = name
      op.send = performance.now()
      reply =
        kind === 'delete' ? await answer(client.delete(name)) : await answer(client.download(name))
      if (reply !== 'no answer' && reply.ok && kind === 'download') op.body = reply.body
    }
    op.ack = performance.now()
    if (reply === 'no answer') {
      op.code = 'NO_ANSWER'
      run.ops.push(op)
      return
    }
    op.ok = reply.ok
    op.code = reply.error?.code
    run.ops.push(op)
    if (kind === 'download' && reply.ok && !reply.bodyIntact) op.code = 'BODY_HASH_MISMATCH'
    if (reply.error?.code === 'ERR_CONNECTION_CLOSED') return
  }
}

/** Check every answer and the final disk against the model; returns the problems found. */
function check(run: Run, disk: Map<string, Buffer>, counts: Record<string, number>): string[] {
  const problems: string[] = []
  const history = new History(run.ops)
  const ackedAppends = new Set(
    run.ops.filter((o) => o.kind === 'append' && o.ok).map((o) => o.aid!),
  )
  const ackedUploads = new Set(
    run.ops.filter((o) => o.kind === 'upload' && o.ok).map((o) => o.uid!),
  )
  /** Appends certainly applied to the file of upload uid, with their times. */
  const certainAppends = new Map<string, OpRecord[]>()
  /** Append sequences seen per upload id (downloads, then the final disk). */
  const sequences = new Map<string, string[][]>()
  const seen = (uid: string, appends: string[]) =>
    sequences.set(uid, [...(sequences.get(uid) ?? []), appends])
  const bump = (key: string) => (counts[key] = (counts[key] ?? 0) + 1)

  for (const op of run.ops) {
    const where = `client ${op.client} ${op.kind} ${op.name ?? `${op.from} → ${op.to}`}`
    if (op.code === 'BODY_HASH_MISMATCH')
      problems.push(`${where}: download body does not match its SHA-256`)
    else if (!op.ok && !EXPECTED_ERRORS[op.kind].includes(op.code!))
      problems.push(`${where}: unexpected ${op.code}`)
    if (op.kind === 'list' && op.ok) {
      if (op.names!.some((n) => !NAMES.includes(n)))
        problems.push(`${where}: lists unknown names ${op.names!.join(',')}`)
      for (const name of NAMES) {
        const state = history.stateDuring(name, op)
        if (!state) continue
        bump('certain list rows')
        if ((state.kind === 'file') !== op.names!.includes(name))
          problems.push(`${where}: ${name} should be ${state.kind}`)
      }
      continue
    }
    const name = op.kind === 'rename' ? op.from! : op.name!
    const state = op.kind === 'upload' ? undefined : history.stateDuring(name, op)
    if (state) bump(`certain ${op.kind}`)
    if (op.kind === 'download' && op.ok) {
      const parsed = parseContent(op.body!, run.bodies)
      if ('error' in parsed) {
        problems.push(`${where}: ${parsed.error}`)
        continue
      }
      seen(parsed.uid, parsed.appends)
      if (state?.kind === 'file' && state.uid !== parsed.uid)
        problems.push(`${where}: got ${parsed.uid}, model says ${state.uid}`)
    }
    if (state?.kind === 'empty' && op.ok)
      problems.push(`${where}: succeeded on a name the model says is empty`)
    if (state?.kind === 'file' && !op.ok && op.kind !== 'rename')
      problems.push(`${where}: ${op.code} on a name the model says holds ${state.uid}`)
    if (op.kind === 'rename' && state?.kind === 'file') {
      const target = history.stateDuring(op.to!, op)
      if (target?.kind === 'empty' && !op.ok)
        problems.push(`${where}: ${op.code} though the target is empty`)
      if (target?.kind === 'file' && op.code !== 'ERR_EXISTS')
        problems.push(`${where}: ${op.code ?? 'ok'} though the target exists`)
    }
    if (op.kind === 'append' && op.ok && state?.kind === 'file') {
      certainAppends.set(state.uid, [...(certainAppends.get(state.uid) ?? []), op])
    }
  }

  // Downloads of a file with certain appends: what was acknowledged before is there, what was
  // sent after is not.
  for (const op of run.ops.filter((o) => o.kind === 'download' && o.ok)) {
    const state = history.stateDuring(op.name!, op)
    const parsed = parseContent(op.body!, run.bodies)
    if (state?.kind !== 'file' || 'error' in parsed) continue
    for (const append of certainAppends.get(state.uid) ?? []) {
      const present = parsed.appends.includes(append.aid!)
      if (append.ack < op.send && !present)
        problems.push(`download of ${op.name} misses acknowledged append ${append.aid}`)
      if (append.send > op.ack && present)
        problems.push(`download of ${op.name} has append ${append.aid} sent after it`)
    }
  }

  // The final disk.
  const uidsOnDisk = new Set<string>()
  const aidsOnDisk = new Set<string>()
  for (const [name, content] of disk) {
    if (!NAMES.includes(name)) problems.push(`unexpected file on disk: ${name}`)
    const parsed = parseContent(content, run.bodies)
    if ('error' in parsed) {
      problems.push(`disk ${name}: ${parsed.error}`)
      continue
    }
    if (!ackedUploads.has(parsed.uid))
      problems.push(`disk ${name}: upload ${parsed.uid} was never acknowledged`)
    if (uidsOnDisk.has(parsed.uid))
      problems.push(`disk ${name}: upload ${parsed.uid} is in two files`)
    uidsOnDisk.add(parsed.uid)
    for (const aid of parsed.appends) {
      if (!ackedAppends.has(aid))
        problems.push(`disk ${name}: append ${aid} was never acknowledged`)
      if (aidsOnDisk.has(aid)) problems.push(`disk ${name}: append ${aid} appears twice`)
      aidsOnDisk.add(aid)
    }
    for (const append of certainAppends.get(parsed.uid) ?? []) {
      bump('certain appends checked on disk')
      if (!parsed.appends.includes(append.aid!))
        problems.push(`disk ${name}: acknowledged append ${append.aid} is missing`)
    }
    seen(parsed.uid, parsed.appends)
    const state = history.stateAt(name, Infinity, Infinity)
    if (state?.kind === 'file' && state.uid !== parsed.uid)
      problems.push(`disk ${name}: holds ${parsed.uid}, model says ${state.uid}`)
  }
  for (const name of NAMES) {
    const state = history.stateAt(name, Infinity, Infinity)
    if (state) bump('certain final names')
    if (state?.kind === 'empty' && disk.has(name))
      problems.push(`disk ${name}: exists, model says deleted or renamed away`)
    if (state?.kind === 'file' && !disk.has(name))
      problems.push(`disk ${name}: missing, model says it holds ${state.uid}`)
  }
  // Appends only ever add: every version of one file seen extends the ones seen before it.
  for (const [uid, seqs] of sequences) {
    const sorted = [...seqs].sort((a, b) => a.length - b.length)
    for (let i = 1; i < sorted.length; i++) {
      const shorter = sorted[i - 1]!
      if (shorter.some((aid, k) => sorted[i]![k] !== aid))
        problems.push(`upload ${uid}: two versions disagree on the order of appends`)
    }
  }
  return problems
}

describe('random operations from nine clients', () => {
  it(`${CLIENTS} clients × ${OPS_PER_CLIENT} operations over ${NAMES.length} names (seed ${SEED})`, async () => {
    const server = await startServer()
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) =>
        TestClient.connect(server.port, { clientId: `r${i}` }),
      ),
    )
    const run: Run = { ops: [], bodies: new Map() }
    const started = performance.now()
    await Promise.all(clients.map((client, i) => runClient(i, client, run)))
    const elapsed = performance.now() - started

    expect(server.proc.exitCode, `the server exited:\n${server.output()}`).toBeNull()
    const listing = (await clients[0]!.list()).result!.files.map((f) => f.name)
    await Promise.all(clients.map((c) => c.close()))
    expect(tempFilesIn(server.root)).toEqual([])
    const disk = filesIn(server.root)
    expect(listing).toEqual([...disk.keys()].sort())

    const counts: Record<string, number> = {}
    const problems = check(run, disk, counts)
    const byKind = (kind: OpKind, ok: boolean) =>
      run.ops.filter((o) => o.kind === kind && o.ok === ok).length
    console.log(
      `random ops (seed ${SEED}): ${run.ops.length} in ${Math.round(elapsed)} ms; ` +
        (['upload', 'download', 'append', 'rename', 'delete', 'list'] as const)
          .map((k) => `${k} ${byKind(k, true)} ok/${byKind(k, false)} refused`)
          .join(', ') +
        `; model checks: ${JSON.stringify(counts)}; files at end ${disk.size}`,
    )
    expect(problems.slice(0, 40), `server output (end):\n${server.output().slice(-4000)}`).toEqual(
      [],
    )
    expect(run.ops).toHaveLength(CLIENTS * OPS_PER_CLIENT)
  }, 240_000)
})
