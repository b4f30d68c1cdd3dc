/**
 * The command line's grammar (commander): global options, one subcommand per operation. Parsing
 * only selects what to run; the commands do the work and main.ts decides exit codes.
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { checkDuration, MAX_TTL_SECONDS } from '../duration.js'
import {
  DEFAULT_WAIT_SECONDS,
  MAX_WAIT_SECONDS,
  type CliContext,
  type CliIo,
  type GlobalOptions,
} from './context.js'
import { bodyCommand, type BodyOp } from './commands/body.js'
import { cat } from './commands/cat.js'
import { get } from './commands/get.js'
import { lockCommand, unlockCommand } from './commands/lock.js'
import { log } from './commands/log.js'
import { ls } from './commands/ls.js'
import { menu } from './commands/menu.js'
import { mv } from './commands/mv.js'
import { put } from './commands/put.js'
import { rm } from './commands/rm.js'
import { status } from './commands/status.js'
import { UsageError } from './errors.js'

/** How a remote argument is read (targets.ts), in every command's help. */
const TARGET_HELP = 'a name, or an index from the last ls (a number)'
const NAME_HELP = 'read a numeric target as a name, not an index'

/** What parsing chose: a command to run (it may return an exit status), or help to show. */
export type Invocation =
  | {
      kind: 'run'
      globals: GlobalOptions
      run: (ctx: CliContext) => Promise<number | void>
      /** The command handles Ctrl+C itself (the menu); else main.ts ends it with status 130. */
      ownsInterrupt?: boolean
    }
  | { kind: 'help'; text: string }

function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`)
    }
    return n
  }
}

/** A duration option's value (duration.ts) in seconds, from `min` to `max`. */
function duration(min: number, max: number) {
  return (value: string): number => {
    const checked = checkDuration(value, { min, max })
    if ('problem' in checked) throw new InvalidArgumentError(checked.problem)
    return checked.seconds
  }
}

/** Build the program; `select` receives the invocation chosen by the arguments. */
export function buildProgram(
  io: CliIo,
  version: string,
  select: (invocation: Invocation) => void,
): Command {
  const program = new Command('tandem')
    .description('Client of a tandem file server: list, upload, download and edit its files.')
    .version(version, '-V, --version')
    .option(
      '--server <host:port,...>',
      'server address(es): the first reachable is used, the others take over if it is lost (env TANDEM_SERVER; default 127.0.0.1:8001)',
    )
    .option(
      '--cluster <name>',
      'find the servers of this cluster on the local network and use the least loaded (env TANDEM_CLUSTER)',
    )
    .option(
      '--client-id <id>',
      'who this client is to the server (env TANDEM_CLIENT_ID; default: one kept in ~/.config/tandem)',
    )
    .option('--json', 'print machine-readable results on stdout (and errors, as {"error":…})')
    .addOption(
      new Option(
        '--wait <duration>',
        `while the server is busy, retry for up to this long (env TANDEM_WAIT; default ${DEFAULT_WAIT_SECONDS}s; e.g. 90, 90s, 2m)`,
      ).argParser(duration(0, MAX_WAIT_SECONDS)),
    )
    .option('--no-wait', 'fail at once when the server is busy (ERR_BUSY)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Errors are printed by main.ts in the one `error: CODE: message` format.
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
  const chose: Chooser =
    (run) =>
    (...args) => {
      const command = args.at(-1) as Command
      const globals = command.optsWithGlobals<GlobalOptions>()
      select({ kind: 'run', globals, run: (ctx) => run(ctx, ...(args.slice(0, -1) as never[])) })
    }
  addFileCommands(program, chose)
  addBodyCommands(program, chose)
  addInfoCommands(program, chose)
  addLockCommands(program, chose)
  addServeEntry(program)
  // No command: the menu on a terminal, else the help (and status 2).
  program
    .command('menu', { isDefault: true, hidden: true })
    .argument('[command]')
    .action((command: string | undefined, _o: unknown, self: Command) => {
      if (command !== undefined)
        throw new UsageError(`unknown command '${command}' (see tandem --help)`)
      if (!io.stdin.isTTY || !io.stdout.isTTY)
        return select({ kind: 'help', text: program.helpInformation() })
      const globals = self.optsWithGlobals<GlobalOptions>()
      select({ kind: 'run', globals, run: menu, ownsInterrupt: true })
    })
  return program
}

/** Turns a command function into a commander action that only records the choice. */
type Chooser = (
  run: (ctx: CliContext, ...args: never[]) => Promise<number | void>,
) => (...args: unknown[]) => void

function addFileCommands(program: Command, chose: Chooser): void {
  program
    .command('ls')
    .description('list the files (composite listing, with indices)')
    .action(chose(ls))
  program
    .command('put')
    .argument('<src...>', 'local files or folders, then (with two or more) DEST on the server')
    .usage('SRC... [DEST]')
    .description('upload files or folders, by the rules of cp (folders keep their tree)')
    .addHelpText(
      'after',
      `
With one SRC it keeps its base name (a folder its name and tree). With two or more arguments the
last is DEST on the server: for one SRC its new name, unless DEST ends in '/' or is a folder on
the server, then SRC goes inside it; for several SRCs DEST is a folder. '/' is the served root.
The local disk never changes how DEST reads: 'put notes.txt ..' is ERR_BAD_PATH.
Many files go over one connection, pipelined. --json: { files: [...], bytes, skipped }.

  tandem put report.txt                 report.txt
  tandem put report.txt q1.txt          q1.txt
  tandem put report.txt docs/           docs/report.txt
  tandem put a.txt b.txt docs           docs/a.txt, docs/b.txt
  tandem put photos /                   photos/... (the tree)`,
    )
    .action(chose((ctx, locals: string[]) => put(ctx, locals)))
  program
    .command('get')
    .argument('<src...>', 'names, folders, listing indices or / on the server, then the local DEST')
    .option('-n, --no-clobber', 'keep local files that exist (they are reported as skipped)')
    .option('--name', NAME_HELP)
    .usage('[options] SRC... [DEST]')
    .description('download files or folders, by the rules of cp (each file atomic)')
    .addHelpText(
      'after',
      `
With one SRC it lands here under its base name (a folder with its tree, '/' everything). With two
or more arguments the last is the local DEST: for one SRC its new name, unless DEST ends in '/' or
is a local folder, then SRC goes inside it; for several SRCs DEST is a folder, made if missing (as
rsync does). A number is an index of the listing ('tandem ls'). Existing local files are replaced,
unless --no-clobber. Every file goes to a temp file beside its target, is checked by SHA-256,
fsynced and renamed into place. --json: { files: [...], bytes, skipped }.

  tandem get docs                       ./docs/... (the tree)
  tandem get docs/a.txt ~/a-copy.txt    ~/a-copy.txt
  tandem get 3 5 out                    out/<name of 3>, out/<name of 5>`,
    )
    .action(
      chose((ctx, sources: string[], o: { clobber?: boolean; name?: boolean }) =>
        get(ctx, sources, { noClobber: o.clobber === false, name: o.name === true }),
      ),
    )
  program
    .command('cat')
    .argument('<target>', TARGET_HELP)
    .option('--name', NAME_HELP)
    .description('print a file')
    .action(
      chose((ctx, target: string, o: { name?: boolean }) => cat(ctx, target, { asName: o.name })),
    )
  program
    .command('mv')
    .argument('<old>', 'a file or folder on the server, or an index from the last ls')
    .argument('<new>', "its new name; ending in '/': inside that folder ('/': the root)")
    .option('--name', NAME_HELP)
    .description('rename a file or a folder (one operation; refused while a file in it is locked)')
    .action(
      chose((ctx, a: string, b: string, o: { name?: boolean }) =>
        mv(ctx, a, b, { name: o.name === true }),
      ),
    )
  program
    .command('rm')
    .usage('[options] NAME...')
    .argument('<name...>', 'files (or folders, with -r) on the server, or indices from the last ls')
    .option('-r, --recursive', 'delete folders and everything in them')
    .option('--name', NAME_HELP)
    .description('delete files, or folders with -r (stops at the first failure)')
    .addHelpText(
      'after',
      `
--json: the result for one name ({ name, files?, folder? }), an array of them for several.`,
    )
    .action(
      chose((ctx, names: string[], o: { recursive?: boolean; name?: boolean }) =>
        rm(ctx, names, { recursive: o.recursive === true, name: o.name === true }),
      ),
    )
}

function addBodyCommands(program: Command, chose: Chooser): void {
  const ops: [BodyOp, string][] = [
    ['create', 'make a new file (refused if NAME exists)'],
    ['write', "replace a file's content"],
    ['append', 'append to a file'],
  ]
  for (const [op, what] of ops) {
    program
      .command(op)
      .argument('<target>', TARGET_HELP)
      .option('--text <text>', 'the content (default: read stdin to its end)')
      .option('--name', NAME_HELP)
      .description(`${what}; content from stdin or --text`)
      .action(
        chose((ctx, target: string, o: { text?: string; name?: boolean }) =>
          bodyCommand(ctx, op, target, o),
        ),
      )
  }
}

function addInfoCommands(program: Command, chose: Chooser): void {
  program
    .command('log')
    .option('--follow', 'keep printing changes as they happen')
    .option('--limit <n>', 'the last N entries', positiveInt(100_000))
    .description('the change log')
    .action(chose((ctx, o: { follow?: boolean; limit?: number }) => log(ctx, o)))
  program.command('status').description('server, peers, clients and locks').action(chose(status))
}

/**
 * `serve` in the help. The executable runs the server when `serve` is its first argument, before
 * this program is built (the client never loads server code); this entry only tells a person it
 * exists, and explains when `serve` came after client options.
 */
function addServeEntry(program: Command): void {
  program
    .command('serve')
    .argument('[options...]')
    .allowUnknownOption()
    .helpOption(false)
    .description(
      'run a server: serve a folder to clients, mirrored with peers (tandem serve --help)',
    )
    .action(() => {
      throw new UsageError(
        "serve must be the first argument: tandem serve [options] (see tandem serve --help); the client's options do not apply to it",
      )
    })
}

function addLockCommands(program: Command, chose: Chooser): void {
  program
    .command('lock')
    .argument('<target>', TARGET_HELP)
    .addOption(
      new Option(
        '--ttl <duration>',
        'the lock ends by itself after this long (90, 90s, 10m, 2h, 1d)',
      ).argParser(duration(1, MAX_TTL_SECONDS)),
    )
    .option('--name', NAME_HELP)
    .description(
      "lock a file at this server: it stays as it is here, peers' changes wait until unlock",
    )
    .action(
      chose((ctx, target: string, o: { ttl?: number; name?: boolean }) =>
        lockCommand(ctx, target, o),
      ),
    )
  program
    .command('unlock')
    .argument('<target>', TARGET_HELP)
    .option('--force', "release another client's lock")
    .option('--name', NAME_HELP)
    .description('release a lock; the updates queued meanwhile are applied in order')
    .action(
      chose((ctx, target: string, o: { force?: boolean; name?: boolean }) =>
        unlockCommand(ctx, target, o),
      ),
    )
}
