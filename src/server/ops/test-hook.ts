/**
 * A test hook, never active without the environment variable `TANDEM_TEST_HOOK`: it ends the
 * whole server process with SIGKILL after a request's commit (its rid recorded, its locks let
 * go) and before its reply, so that tests can lose an answer at exactly that instant.
 * - `kill-after-commit:OP` (OP: upload, create, write, append, rename, delete, lock, unlock):
 *   at once, whether or not any peer has the change yet;
 * - `kill-after-peers:OP`: first waits (up to 15 s) until the change is in this server's index
 *   with its rid and every peer has acknowledged every entry (status: backlog 0).
 * Only requests that carry a rid trigger it.
 */
import type { OpsContext } from './context.js'

const WAIT_FOR_PEERS_MS = 15_000

export async function afterCommit(ctx: OpsContext, op: string, rid: string): Promise<void> {
  const hook = process.env.TANDEM_TEST_HOOK
  if (!hook) return
  const [when, hookOp] = hook.split(':')
  if (hookOp !== op) return
  if (when === 'kill-after-peers') await peersHave(ctx, rid)
  else if (when !== 'kill-after-commit') return
  process.kill(process.pid, 'SIGKILL')
  await new Promise(() => undefined) // the signal is on its way: never answer
}

async function peersHave(ctx: OpsContext, rid: string): Promise<void> {
  const deadline = Date.now() + WAIT_FOR_PEERS_MS
  while (Date.now() < deadline) {
    const indexed = ctx.index.request?.(rid) !== undefined
    const { peers } = await ctx.status()
    if (indexed && peers.length > 0 && peers.every((p) => p.connected && p.backlog === 0)) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
