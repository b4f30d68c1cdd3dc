/**
 * PLACEHOLDER on the failover branch only: the DISCO part builds the real module (multicast
 * DNS-SD browsing for `_tandem._tcp` members of a cluster); the lead keeps DISCO's file on merge.
 * Same signature, so that the command line's --cluster is wired against it.
 */
import { TandemError } from '../protocol/index.js'
import type { ServerAddress } from './address.js'

export interface DiscoverOptions {
  timeoutMs: number
  interface?: string
}

export function discoverServers(
  cluster: string,
  options: DiscoverOptions,
): Promise<ServerAddress[]> {
  void options
  return Promise.reject(
    new TandemError('ERR_UNREACHABLE', `cluster discovery is not built yet (cluster '${cluster}')`),
  )
}
