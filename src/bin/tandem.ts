#!/usr/bin/env node
/**
 * The single executable: `tandem serve ...` runs a server, anything else is the client. The only
 * file that knows both sides; each is loaded with a dynamic import, so the client never loads
 * server code (and the reverse).
 */
const args = process.argv.slice(2)

if (args[0] === 'serve') {
  // Before the server's modules load: their loading would grow the main thread's young generation.
  ;(await import('../server/workers/young-generation.js')).keepMainYoungGenerationSmall()
  // Before any worker starts: each then has V8's gc() for its idle collect.
  ;(await import('../server/workers/idle-collect.js')).exposeGcToWorkers()
  const { main } = await import('../server/main.js')
  await main(args.slice(1))
} else if (args[0] === 'help' && args[1] === 'serve') {
  // The client's help lists `serve`; its options are the server's to tell.
  const { main } = await import('../server/main.js')
  await main(['--help'])
} else {
  const { runCli, EXIT_INTERRUPTED } = await import('../client/cli/main.js')
  process.exitCode = await runCli(args)
  // After Ctrl+C, something may still hold the event loop (stdin being read): it cannot matter.
  if (process.exitCode === EXIT_INTERRUPTED) setTimeout(() => process.exit(), 100).unref()
}
