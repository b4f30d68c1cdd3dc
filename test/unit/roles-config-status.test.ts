// Roles' pure parts: --primary in the configuration (the primary is a mirror link; a server cannot
// be its own primary), what `status` says of the role, and how the CLI shows it.
import { describe, expect, it } from 'vitest'
import { renderStatus } from '../../src/client/cli/render/status.js'
import type { PeerStatus, StatusResult } from '../../src/protocol/index.js'
import { roleStatus } from '../../src/server/forward/role-status.js'
import { ConfigError, mirroredAddresses, resolveConfig } from '../../src/server/config.js'

function peer(address: string, fields: Partial<PeerStatus> = {}): PeerStatus {
  return {
    address,
    name: 'P',
    state: 'up',
    up: true,
    connected: true,
    lastHeard: 0,
    behind: 0,
    backlog: 0,
    oldestWaitingMs: null,
    clockSkewMs: 0,
    ...fields,
  }
}

describe('roles: configuration', () => {
  it('the primary is mirrored from, once, beside the peers', () => {
    const config = resolveConfig({ primary: '10.0.0.1:8001', peers: ['10.0.0.2:8001'] })
    expect(config.primary).toBe('10.0.0.1:8001')
    expect(mirroredAddresses(config)).toEqual(['10.0.0.2:8001', '10.0.0.1:8001'])
    expect(mirroredAddresses({ peers: ['10.0.0.1:8001'], primary: '10.0.0.1:8001' })).toEqual([
      '10.0.0.1:8001',
    ])
    expect(resolveConfig({}).primary).toBeNull()
    expect(mirroredAddresses(resolveConfig({ peers: ['h:1'] }))).toEqual(['h:1'])
  })

  it('a bad --primary, or this server itself, is refused', () => {
    expect(() => resolveConfig({ primary: 'no-port' })).toThrow(ConfigError)
    expect(() => resolveConfig({ primary: '127.0.0.1:9001', port: 9001 })).toThrow(/itself/)
    // A secondary keeps every file its primary has: partial replication does not go with a role.
    expect(() => resolveConfig({ primary: '10.0.0.1:8001', replicas: 2 })).toThrow(
      /--primary and --replicas/,
    )
    expect(resolveConfig({ replicas: 2 }).replicas).toBe(2)
    expect(() => resolveConfig({ replicas: 0 })).toThrow(ConfigError)
  })
})

describe('roles: status', () => {
  it('a secondary is reachable while its link to the primary is connected', () => {
    expect(roleStatus(null, [])).toEqual({ kind: 'equal' })
    expect(roleStatus('h:1', [peer('h:2'), peer('h:1')])).toEqual({
      kind: 'secondary',
      primary: 'h:1',
      name: 'P',
      reachable: true,
    })
    expect(roleStatus('h:1', [peer('h:1', { connected: false, up: false, name: null })])).toEqual({
      kind: 'secondary',
      primary: 'h:1',
      name: null,
      reachable: false,
    })
    expect(roleStatus('h:1', [])).toMatchObject({ reachable: false })
  })

  it('the CLI shows a secondary role, and nothing for an equal', () => {
    const base: StatusResult = {
      server: {
        name: 'S',
        version: '0.1.0',
        protocol: 1,
        pid: 1,
        startedAt: 0,
        uptimeMs: 1000,
        root: '/data',
        host: '127.0.0.1',
        port: 9001,
      },
      clients: { connected: 0, max: 9, list: [] },
      peers: [],
      members: [],
      sync: { state: 'running' },
      locks: [],
      pathLocks: [],
    }
    expect(renderStatus({ ...base, role: { kind: 'equal' } })).not.toMatch(/^role/m)
    expect(
      renderStatus({
        ...base,
        role: { kind: 'secondary', primary: '127.0.0.1:8001', name: 'P', reachable: false },
      }),
    ).toMatch(/^role {5}secondary of the primary P at 127\.0\.0\.1:8001 \(unreachable: writes/m)
  })
})
