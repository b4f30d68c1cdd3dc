// The sync engine's members, as discovery and the handshake feed them: added by name (never this
// server itself), a known name at a new address moved there (no second member), a refusal shown
// in `status` and told once. A real engine on a temp directory, its links not started (nothing
// listens at the members' addresses; the engine is never run).
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileIndex } from '../../src/server/index/file-index.js'
import type { Applier } from '../../src/server/sync/applier.js'
import { SyncEngine } from '../../src/server/sync/engine.js'
import { Members } from '../../src/server/sync/members.js'
import { PeerLink } from '../../src/server/sync/peer-link.js'
import type { EngineReport } from '../../src/server/sync/messages.js'
import { tempDir } from '../helpers/temp-dir.js'

const engines: SyncEngine[] = []
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop()
})

async function engine(
  extra: { primary?: string } = {},
): Promise<{ engine: SyncEngine; told: EngineReport[] }> {
  const base = tempDir('engine-members-')
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  mkdirSync(stateDir)
  const told: EngineReport[] = []
  const e = await SyncEngine.open(
    {
      self: 'A',
      root,
      stateDir,
      host: '127.0.0.1',
      syncPort: 0,
      peers: ['127.0.0.1:1'],
      rescanIntervalMs: 60_000,
      peerTimeoutMs: 2_000,
      clusterKey: null,
      cluster: null,
      clusterInterface: null,
      replicas: null,
      rereplicateAfterMs: 60_000,
      ...extra,
    },
    { lock: () => Promise.resolve(() => undefined), tell: (report) => told.push(report) },
  )
  engines.push(e)
  return { engine: e, told }
}

describe('SyncEngine.addMember', () => {
  it('adds a member by name once, never itself, and moves a known name to its new address', async () => {
    const { engine: e } = await engine()
    expect(e.addMember({ name: 'A', address: '127.0.0.1:2' })).toBe('self')
    expect(e.addMember({ name: 'B', address: '127.0.0.1:3' })).toBe('added')
    expect(e.addMember({ name: 'B', address: '127.0.0.1:3' })).toBe('known')
    // The static --peer, its name not known yet: its address is enough to know it.
    expect(e.addMember({ address: '127.0.0.1:1' })).toBe('known')
    expect(e.addMember({ name: 'B', address: '127.0.0.1:4' })).toBe('moved')
    const members = e.status().members
    expect(members).toHaveLength(2)
    expect(members.find((m) => m.name === null)).toMatchObject({
      addresses: ['127.0.0.1:1'],
      source: 'static',
      state: 'connecting',
      clients: null,
      lastContact: null,
    })
    expect(members.find((m) => m.name === 'B')).toMatchObject({
      addresses: ['127.0.0.1:4', '127.0.0.1:3'],
      source: 'discovered',
      state: 'connecting',
    })
  })

  it('shows a refused member as refused, and tells it once (console, change log)', async () => {
    const { engine: e, told } = await engine()
    e.addMember({ name: 'B', address: '127.0.0.1:3' })
    e.refused({ name: 'B' }, 'ERR_AUTH: it could not prove the cluster key')
    e.refused({ name: 'B' }, 'ERR_AUTH: it could not prove the cluster key')
    // One that is no member (an unknown server knocking) is still told.
    e.refused({ address: '10.0.0.9:8001' }, 'ERR_AUTH: no key')
    expect(e.status().members.find((m) => m.name === 'B')).toMatchObject({
      state: 'refused',
      reason: 'ERR_AUTH: it could not prove the cluster key',
    })
    const refusals = told.filter((r) => r.t === 'log' && r.op === 'member-refused')
    expect(refusals.map((r) => (r.t === 'log' ? r.peer : ''))).toEqual(['B', '10.0.0.9:8001'])
  })
})

describe('members', () => {
  it("lists a secondary's primary as a member of source 'primary'", async () => {
    const { engine: e } = await engine({ primary: '127.0.0.1:7' })
    expect(e.status().members.map((m) => [m.addresses[0], m.source])).toEqual([
      ['127.0.0.1:1', 'static'],
      ['127.0.0.1:7', 'primary'],
    ])
  })

  it('follows a server once: a second link whose handshake names it ends, its address kept', () => {
    const index = {
      peerNameAt: () => undefined,
      peerAcked: () => undefined,
    } as unknown as FileIndex
    const link = (address: string, name?: string) =>
      new PeerLink({
        address,
        ...(name === undefined ? {} : { name }),
        self: 'A',
        clusterKey: null,
        index,
        applier: {} as Applier,
        peerTimeoutMs: 2_000,
        onUp: () => undefined,
        onDown: () => undefined,
        onClockSkew: () => undefined,
        warn: () => undefined,
      })
    const members = new Members()
    const discovered = link('10.0.0.2:8001', 'B')
    const configured = link('127.0.0.1:9001')
    members.add(discovered)
    members.add(configured)
    expect(members.claim(discovered, 'B')).toBe(true)
    expect(members.claim(configured, 'B')).toBe(false)
    expect(members.all()).toEqual([discovered])
    // Not connected: it moves to the address the other link just reached, keeping its own after.
    expect(discovered.memberStatus().addresses).toEqual(['127.0.0.1:9001', '10.0.0.2:8001'])
  })
})
