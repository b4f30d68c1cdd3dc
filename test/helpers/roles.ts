/**
 * A primary and its secondaries (roles), as real server processes on loopback: the primary has no
 * peers; each secondary has only `--primary` (the primary is its one member link). Cleaned up when
 * the test ends, like every cluster.
 */
import type { ClusterServer } from './cluster.js'
import { freePorts, newServer, showOutputOnFailure, waitPeersUp } from './cluster.js'

export interface Roles {
  primary: ClusterServer
  secondaries: ClusterServer[]
}

export async function startRoles(
  options: {
    secondaries?: number
    http?: boolean
    primaryArgs?: string[]
    /** Given to every server (a cluster key…). */
    allArgs?: string[]
  } = {},
): Promise<Roles> {
  const count = options.secondaries ?? 2
  const ports = await freePorts(2 * (count + 1))
  const make = (name: string, i: number, extraArgs: string[]): ClusterServer =>
    newServer({
      name,
      port: ports[2 * i]!,
      syncPort: ports[2 * i + 1]!,
      extraArgs,
      http: options.http ?? false,
    })
  const all = options.allArgs ?? []
  const primary = make('P', 0, [...all, ...(options.primaryArgs ?? [])])
  const secondaries = Array.from({ length: count }, (_, i) =>
    make(`S${i + 1}`, i + 1, [...all, '--primary', primary.address]),
  )
  showOutputOnFailure([primary, ...secondaries])
  await Promise.all([primary, ...secondaries].map((server) => server.start()))
  await Promise.all(secondaries.map((server) => waitPeersUp(server, 1)))
  return { primary, secondaries }
}
