#!/usr/bin/env node
/**
 * The single executable: `tandem serve ...` runs a server, anything else is the client. The only
 * file that knows both sides; each is loaded with a dynamic import, so the client never loads
 * server code (and the reverse).
 */
const args = process.argv.slice(2)

if (args[0] === 'serve') {
  const { main } = await import('../server/main.js')
  await main(args.slice(1))
} else {
  const { runCli } = await import('../client/cli/main.js')
  process.exitCode = await runCli(args)
}
