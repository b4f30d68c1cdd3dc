// Server address and client id resolution: flag, environment, default; the stored id.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAddress } from '../../src/client/address.js'
import {
  clientIdPath,
  DEFAULT_SERVER,
  resolveClientId,
  resolveCluster,
  resolveServers,
} from '../../src/client/config.js'
import { tempDir } from '../helpers/index.js'

describe('resolveServers', () => {
  it('takes the flag, else TANDEM_SERVER, else the default', () => {
    expect(resolveServers('h:1,[::1]:2', { TANDEM_SERVER: 'e:3' })).toEqual([
      { host: 'h', port: 1 },
      { host: '::1', port: 2 },
    ])
    expect(resolveServers(undefined, { TANDEM_SERVER: 'e:3' })).toEqual([{ host: 'e', port: 3 }])
    expect(resolveServers(undefined, { TANDEM_SERVER: ' ' })).toEqual([
      parseAddress(DEFAULT_SERVER),
    ])
  })

  it('refuses malformed addresses', () => {
    for (const bad of ['host', 'host:0', 'host:70000', ':80', 'a:b', ',', '::1:80']) {
      expect(() => resolveServers(bad, {}), bad).toThrow(TypeError)
    }
  })
})

describe('resolveCluster (discovery or not)', () => {
  it('--server wins, then --cluster, then TANDEM_SERVER, then TANDEM_CLUSTER', () => {
    const both = { TANDEM_SERVER: 'e:3', TANDEM_CLUSTER: 'env-cluster' }
    expect(resolveCluster({ server: 'h:1', cluster: 'c' }, both)).toBeUndefined()
    expect(resolveCluster({ cluster: 'c' }, both)).toBe('c')
    expect(resolveCluster({}, both)).toBeUndefined()
    expect(resolveCluster({}, { TANDEM_CLUSTER: 'env-cluster' })).toBe('env-cluster')
    expect(resolveCluster({}, { TANDEM_CLUSTER: '  ' })).toBeUndefined()
    expect(resolveCluster({}, {})).toBeUndefined()
  })

  it('refuses an empty or overlong name', () => {
    expect(() => resolveCluster({ cluster: ' ' }, {})).toThrow(/not a cluster name/)
    expect(() => resolveCluster({ cluster: 'x'.repeat(64) }, {})).toThrow(/not a cluster name/)
  })
})

describe('resolveClientId', () => {
  it('takes the flag, else TANDEM_CLIENT_ID', async () => {
    expect(await resolveClientId('flag', { TANDEM_CLIENT_ID: 'env' })).toBe('flag')
    expect(await resolveClientId(undefined, { TANDEM_CLIENT_ID: 'env' })).toBe('env')
    await expect(resolveClientId('has space', {})).rejects.toThrow(TypeError)
    await expect(resolveClientId('x'.repeat(129), {})).rejects.toThrow(TypeError)
  })

  it('generates one id once and keeps it in $XDG_CONFIG_HOME/tandem/client-id', async () => {
    const env = { XDG_CONFIG_HOME: tempDir() }
    const first = await resolveClientId(undefined, env)
    expect(clientIdPath(env)).toBe(path.join(env.XDG_CONFIG_HOME, 'tandem', 'client-id'))
    expect((await fs.readFile(clientIdPath(env), 'utf8')).trim()).toBe(first)
    expect(await resolveClientId(undefined, env)).toBe(first)
    const together = await Promise.all(
      [1, 2, 3].map(() => resolveClientId(undefined, { XDG_CONFIG_HOME: tempDir() })),
    )
    expect(new Set(together).size).toBe(3)
  })

  it('still answers when the config dir cannot be written', async () => {
    const file = path.join(tempDir(), 'not-a-dir')
    await fs.writeFile(file, '')
    const id = await resolveClientId(undefined, { XDG_CONFIG_HOME: file })
    expect(id.length).toBeGreaterThan(0)
  })
})
