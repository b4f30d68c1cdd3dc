/**
 * Entry point of `tandem serve`: argv → config → start → wait for a signal → stop. The only place
 * in the server that exits the process.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { displayText } from '../protocol/display-text.js'
import { ConfigError, readConfigFile, resolveConfig, type ServerOptions } from './config.js'
import { describeFailure } from './console.js'
import { DURATION_FORMS, parseDurationMs } from './duration.js'
import { startServer } from './server.js'
import { describeStartupFailure } from './startup-errors.js'

function int(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer')
  return n
}

function durationMs(value: string): number {
  const ms = parseDurationMs(value)
  if (ms === undefined) throw new InvalidArgumentError(`expected a duration: ${DURATION_FORMS}`)
  return ms
}

function parseArgs(args: string[]): ServerOptions {
  const program = new Command('tandem serve')
    .description('Serve a directory to up to nine clients and mirror it with peer servers.')
    .option('--name <name>', "this server's name, shown to clients and peers")
    .option('--root <dir>', 'the data directory to serve (default ./data)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option(
      '--port <port>',
      'control port for clients and peers (default 8001; 0 picks a free one)',
      int,
    )
    .option('--sync-port <port>', 'file-exchange port for peers (default 5001)', int)
    .option(
      '--http-port <port>',
      'HTTP port for the web page and API (default: control port + 80; 0 picks a free one)',
      int,
    )
    .option('--no-http', 'serve no HTTP')
    .option('--max-http-connections <n>', 'open HTTP connections at once (default 256)', int)
    .option(
      '--http-headers-timeout-ms <ms>',
      "an HTTP request's headers must arrive within this (default 10000)",
      int,
    )
    .option(
      '--peer <host:port>',
      "a peer server's control port (repeatable)",
      (v: string, all: string[] = []) => [...all, v],
    )
    .option(
      '--primary <host:port>',
      'be a secondary of the primary at this control port: forward every write there, mirror from it',
    )
    .option('--max-clients <n>', 'clients served at once (default 9)', int)
    .option(
      '--workers <n>',
      'session worker threads, shared by the clients (default: one per core, at least 2)',
      int,
    )
    .option(
      '--state <dir>',
      'where the database lives (default: .<root name>.tandem beside the root)',
    )
    .option('--idle-timeout-ms <ms>', 'close connections silent this long (default 120000)', int)
    .option(
      '--hello-timeout-ms <ms>',
      'close connections that have not said hello this long after opening (default 5000)',
      int,
    )
    .option(
      '--max-pre-hello-per-address <n>',
      'connections from one address that have not said hello yet (default 16)',
      int,
    )
    .option(
      '--max-pre-hello <n>',
      'connections from all addresses that have not said hello yet (default 128)',
      int,
    )
    .option(
      '--cluster <name>',
      'find the members of this cluster on the LAN by multicast DNS (env TANDEM_CLUSTER; needs a cluster key)',
    )
    .option(
      '--cluster-interface <address>',
      "IPv4 address of the interface to announce and browse on (default: the OS's choice)",
    )
    .option('--lock-timeout-ms <ms>', 'longest wait for a file lock (default 10000)', int)
    .option(
      '--request-window <n>',
      'request ids remembered per client, so a replay is answered, not applied again (default 1000)',
      int,
    )
    .option(
      '--request-window-age-ms <ms>',
      'how long a request id is remembered (default 86400000: 24 h)',
      int,
    )
    .option(
      '--peer-timeout <duration>',
      'a member silent this long is down (default 5s; e.g. 2s, 1500ms)',
      durationMs,
    )
    .option(
      '--cluster-key <file>',
      'a file holding the cluster key every peer must prove (or TANDEM_CLUSTER_KEY: the key itself)',
    )
    .option(
      '--replicas <k>',
      'keep each file on K live members, not on every one (default: every member holds every file)',
      int,
    )
    .option(
      '--rereplicate-after <duration>',
      'a member down this long has its files copied anew elsewhere (default 60s; with --replicas)',
      durationMs,
    )
    .option(
      '--proxy-reads',
      'HTTP reads of a file held elsewhere are served through this server (default: 307 to a holder)',
    )
    .option('--config <file>', 'JSON file with any of these options (flags win)')
    .exitOverride()
    // Errors are printed by main() in the one `error: CODE: message` format.
    .configureOutput({ outputError: () => {} })
  program.parse(args, { from: 'user' })
  const o = program.opts<Record<string, unknown>>()
  const fromFile = typeof o.config === 'string' ? readConfigFile(o.config) : {}
  const flags: Record<string, unknown> = {
    name: o.name,
    root: o.root,
    host: o.host,
    port: o.port,
    syncPort: o.syncPort,
    // commander sets `http: true` unless --no-http: only the flag's presence counts here.
    http: o.http === false ? false : undefined,
    httpPort: o.httpPort,
    maxHttpConnections: o.maxHttpConnections,
    httpHeadersTimeoutMs: o.httpHeadersTimeoutMs,
    peers: o.peer,
    primary: o.primary,
    maxClients: o.maxClients,
    workers: o.workers,
    stateDir: o.state,
    idleTimeoutMs: o.idleTimeoutMs,
    helloTimeoutMs: o.helloTimeoutMs,
    maxPreHelloPerAddress: o.maxPreHelloPerAddress,
    maxPreHello: o.maxPreHello,
    lockTimeoutMs: o.lockTimeoutMs,
    requestWindow: o.requestWindow,
    requestWindowAgeMs: o.requestWindowAgeMs,
    peerTimeoutMs: o.peerTimeout,
    cluster: o.cluster ?? (process.env.TANDEM_CLUSTER || undefined),
    clusterInterface: o.clusterInterface,
    clusterKey: clusterKey(o.clusterKey),
    replicas: o.replicas,
    rereplicateAfterMs: o.rereplicateAfter,
    proxyReads: o.proxyReads === true ? true : undefined,
  }
  for (const key of Object.keys(flags)) if (flags[key] === undefined) delete flags[key]
  return { ...fromFile, ...flags } as ServerOptions
}

/** The cluster key: read from --cluster-key FILE, else TANDEM_CLUSTER_KEY (the key itself). */
function clusterKey(file: unknown): string | undefined {
  if (typeof file !== 'string') return process.env.TANDEM_CLUSTER_KEY || undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `cannot read the cluster key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}

/**
 * Run the server until SIGINT or SIGTERM. A start that fails prints one line,
 * `error: ERR_CODE: message` (stderr), and exits non-zero: 2 for bad options, 3 when another
 * server holds the directory, 1 otherwise (a port in use, a directory it cannot write).
 */
export async function main(args: string[]): Promise<void> {
  let options: ServerOptions
  try {
    options = parseArgs(args)
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) process.exit(0) // --help
      fail('ERR_USAGE', err.message.replace(/^error:\s*/, ''), 2)
    }
    const { code, message, status } = describeStartupFailure(err)
    fail(code, message, status)
  }
  let server
  try {
    server = await startServer(resolveConfig(options))
  } catch (err) {
    const { code, message, status } = describeStartupFailure(err)
    if (process.env.TANDEM_DEBUG) process.stderr.write(`${describeFailure(err).join('\n')}\n`)
    fail(code, message, status)
  }
  let stopping = false
  const onSignal = (signal: string): void => {
    if (stopping) return
    stopping = true
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping (${signal}): ${describeFailure(err)[0]}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
}

function fail(code: string, message: string, status: number): never {
  process.stderr.write(`error: ${code}: ${displayText(message.replace(/\s*\n\s*/g, ' '))}\n`)
  process.exit(status)
}
