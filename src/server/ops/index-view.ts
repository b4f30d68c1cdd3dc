/**
 * The IndexView operations read, over a read-only connection to the sync worker's index.db (one
 * per thread, opened on first use; empty until the sync worker has made the index).
 */
import type { IndexView } from './context.js'
import {
  indexedHashes,
  indexedRequest,
  knownHash,
  knownLocks,
  lockOwner,
  peerHoldings,
} from '../index/peer-holdings.js'
import { heldElsewhere, memberAt, notHeldUnder } from '../index/holder-lookup.js'

export function indexView(stateDir: string, self: string): IndexView {
  return {
    holdings: () => peerHoldings(stateDir),
    locks: () => knownLocks(stateDir, self),
    lockOwner: (name) => lockOwner(stateDir, name),
    knownHash: (name, identity) => knownHash(stateDir, name, identity),
    indexedHashes: () => indexedHashes(stateDir),
    request: (rid) => indexedRequest(stateDir, rid),
    heldElsewhere: (name) => heldElsewhere(stateDir, name),
    notHeldUnder: (folder) => notHeldUnder(stateDir, folder),
    member: (name) => memberAt(stateDir, name),
  }
}
