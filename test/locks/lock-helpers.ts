// Shared steps of the user-lock tests: a client with a chosen id, and polls on what a server's
// listing says of a file's locks.
import type { UserLock } from '../../src/protocol/index.js'
import {
  TestClient,
  registerCleanup,
  startCluster,
  waitFile,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'

/** A protocol client of `server` with client id `id`, closed at the end of the test. */
export async function clientOf(server: ClusterServer, id: string): Promise<TestClient> {
  const client = await TestClient.connect(server.port, { clientId: id })
  registerCleanup(() => client.close())
  return client
}

/** The locks `server`'s listing shows on `name` (this server's first). */
export async function locksOn(server: ClusterServer, name: string): Promise<UserLock[]> {
  const row = (await server.list()).find((r) => r.name === name)
  return row?.locks ?? []
}

/** Wait until `server`'s listing shows `name` locked at `at` with `queued` or more updates waiting. */
export async function waitLock(
  server: ClusterServer,
  name: string,
  at: string,
  queued?: number,
): Promise<UserLock> {
  return waitFor(
    async () => {
      const lock = (await locksOn(server, name)).find((l) => l.server === at)
      return lock && (queued === undefined || lock.queued >= queued) ? lock : undefined
    },
    {
      timeoutMs: 10_000,
      what: `${server.name} to show ${name} locked at ${at} (${queued ?? 'any'} queued)`,
    },
  )
}

/** Wait until `server`'s listing shows no lock on `name`. */
export async function waitUnlocked(server: ClusterServer, name: string): Promise<void> {
  await waitFor(async () => (await locksOn(server, name)).length === 0, {
    timeoutMs: 10_000,
    what: `${server.name} to show ${name} unlocked`,
  })
}

/** Call an op and return its result, failing the test with the error code when it fails. */
export async function ok<T>(
  reply: Promise<{ ok: boolean; result?: unknown; error?: { code: string; message: string } }>,
): Promise<T> {
  const r = await reply
  if (!r.ok) throw new Error(`expected success, got ${r.error?.code}: ${r.error?.message}`)
  return r.result as T
}

/** The usual start: servers A and B, `plan.txt` ("base\n") made at B and mirrored to A, then locked at A by alice. */
export async function planLockedAtA(): Promise<{
  a: ClusterServer
  b: ClusterServer
  alice: TestClient
}> {
  const [a, b] = await startCluster(2)
  await b.write('plan.txt', 'base\n')
  await waitFile([a], 'plan.txt', 'base\n')
  const alice = await clientOf(a, 'alice')
  await ok(alice.call('lock', { name: 'plan.txt' }))
  return { a, b, alice }
}
