// The dependency rules of ARCHITECTURE.md (Modules), checked by reading the import statements of
// every source file, and where a process may end itself.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const srcDir = fileURLToPath(new URL('../src/', import.meta.url))

interface Import {
  /** Source file, relative to src/ ('server/net/accept.ts'). */
  from: string
  specifier: string
  /** For a relative import: the target, relative to src/ ('protocol/index.js'); else undefined. */
  target: string | undefined
  dynamic: boolean
}

function sourceFiles(dir: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) files.push(...sourceFiles(full))
    else if (
      entry.name.endsWith('.ts') &&
      !entry.name.endsWith('.test.ts') &&
      !entry.name.endsWith('.d.ts')
    )
      files.push(full)
  }
  return files
}

/** Every import, export-from and import() of a file, found with the TypeScript parser. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const from = path.relative(srcDir, file).split(path.sep).join('/')
  const found: Import[] = []
  const add = (specifier: string, dynamic: boolean) => {
    const target = specifier.startsWith('.')
      ? path
          .relative(srcDir, path.resolve(path.dirname(file), specifier))
          .split(path.sep)
          .join('/')
      : undefined
    found.push({ from, specifier, target, dynamic })
  }
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, false)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0]
      // A computed import() cannot be checked: refuse it so the rules cannot be dodged.
      add(arg && ts.isStringLiteralLike(arg) ? arg.text : '<computed>', true)
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      const expr = node.moduleReference.expression
      if (ts.isStringLiteral(expr)) add(expr.text, false)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

interface Exit {
  /** Source file, relative to src/. */
  from: string
  /** 'process.exit' or 'process.abort', and the line it is on. */
  call: string
  line: number
}

/** Every use of process.exit or process.abort (called or passed along) in a file. */
function exitsOf(file: string): Exit[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const from = path.relative(srcDir, file).split(path.sep).join('/')
  const found: Exit[] = []
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process' &&
      (node.name.text === 'exit' || node.name.text === 'abort')
    ) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1
      found.push({ from, call: `process.${node.name.text}`, line })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const files = sourceFiles(srcDir)
const allImports = files.flatMap(importsOf)
const allExits = files.flatMap(exitsOf)

function inside(target: string | undefined, folder: string): boolean {
  return target !== undefined && (target === folder || target.startsWith(`${folder}/`))
}

/** 'node:fs' and 'fs', 'node:fs/promises' and 'fs/promises' all count as the module 'fs'. */
function builtin(specifier: string): string {
  return specifier.replace(/^node:/, '').split('/')[0] ?? specifier
}

function describeImport(i: Import): string {
  return `${i.from} → ${i.specifier}${i.dynamic ? ' (dynamic)' : ''}`
}

const forbiddenInProtocol = new Set([
  'net',
  'fs',
  'worker_threads',
  'child_process',
  'tls',
  'dgram',
  'http',
  'https',
  'cluster',
])

/** The folder of a file relative to src/ ('server/net/accept.ts' → 'server/net'). */
function folderOf(file: string): string {
  return path.posix.dirname(file)
}

function isAncestor(folder: string, of: string): boolean {
  return of.startsWith(`${folder}/`)
}

/**
 * Folders of src/ that import each other, directly or through other folders: the strongly
 * connected components (Tarjan) of the graph whose nodes are folders and whose edges are the
 * relative imports from a file in one folder to a file in another. A folder and the folders
 * inside it are one part seen at two depths — the folder's own files assemble its sub-folders
 * (server.ts starts net/, sync/, http/) and hold what they share (core.ts, console.ts) — so an
 * import between a folder and one inside it is not an edge. Each component is returned sorted,
 * with the imports that make it up.
 */
function folderCycles(imports: Import[]): { folders: string[]; imports: string[] }[] {
  const edges = new Map<string, Map<string, Import[]>>()
  for (const i of imports) {
    if (i.target === undefined) continue
    const from = folderOf(i.from)
    const to = folderOf(i.target)
    if (from === to || isAncestor(from, to) || isAncestor(to, from)) continue
    if (!edges.has(from)) edges.set(from, new Map())
    const out = edges.get(from)!
    out.set(to, [...(out.get(to) ?? []), i])
  }
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((out) => [...out.keys()])])
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const components: string[][] = []
  const connect = (v: string): void => {
    index.set(v, index.size)
    low.set(v, index.get(v)!)
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1) components.push(component.sort())
    }
  }
  for (const v of [...nodes].sort()) if (!index.has(v)) connect(v)
  return components.map((folders) => ({
    folders,
    imports: folders.flatMap((f) =>
      [...(edges.get(f) ?? [])]
        .filter(([to]) => folders.includes(to))
        .flatMap(([, list]) => list.map(describeImport)),
    ),
  }))
}

/**
 * Where a process (or a thread) may end itself: the files it starts from. Anywhere else an exit
 * would skip the stop sequence (sessions finished, temp files removed, databases closed, the
 * directory lock released) of whoever called that code.
 */
const EXIT_ALLOWED = new Map([
  ['bin/tandem.ts', 'the executable'],
  ['server/main.ts', "`tandem serve`: decides the server's exit statuses"],
  ['server/http/worker.ts', "the HTTP worker thread's entry (ends that thread only)"],
])

/** Each rule returns the imports that break it. */
const rules = {
  protocolIsPure: (imports: Import[]) =>
    imports.filter(
      (i) =>
        i.from.startsWith('protocol/') &&
        (forbiddenInProtocol.has(builtin(i.specifier)) ||
          (i.target !== undefined && !inside(i.target, 'protocol'))),
    ),
  clientAndServerApart: (imports: Import[]) =>
    imports.filter(
      (i) =>
        (i.from.startsWith('client/') && inside(i.target, 'server')) ||
        (i.from.startsWith('server/') && inside(i.target, 'client')),
    ),
  onlyBinKnowsBoth: (imports: Import[]) =>
    imports.filter((i) => {
      const reachesServer = inside(i.target, 'server') && !i.from.startsWith('server/')
      const reachesClient = inside(i.target, 'client') && !i.from.startsWith('client/')
      if (!reachesServer && !reachesClient) return false
      if (!i.from.startsWith('bin/')) return true
      // The client command must not load the server's code (workers, database) just to start.
      return reachesServer && !i.dynamic
    }),
  storageAndLocksKnowNoWire: (imports: Import[]) =>
    imports.filter(
      (i) =>
        (i.from.startsWith('server/storage/') || i.from.startsWith('server/locks/')) &&
        (['net', 'tls'].includes(builtin(i.specifier)) || /^protocol\/frame-/.test(i.target ?? '')),
    ),
}

const exitsOutsideEntries = (exits: Exit[]) => exits.filter((e) => !EXIT_ALLOWED.has(e.from))

const describeExit = (e: Exit) => `${e.from}:${e.line} ${e.call}`

describe('architecture of src/', () => {
  it('finds the source files and their imports', () => {
    expect(allImports.some((i) => i.from.startsWith('protocol/'))).toBe(true)
    expect(allImports.filter((i) => i.specifier === '<computed>').map(describeImport)).toEqual([])
  })

  it('src/protocol uses no sockets, files, threads or processes, and nothing outside itself', () => {
    expect(rules.protocolIsPure(allImports).map(describeImport)).toEqual([])
  })

  it('src/client and src/server never import each other', () => {
    expect(rules.clientAndServerApart(allImports).map(describeImport)).toEqual([])
  })

  it('only src/bin knows both the client and the server, and loads the server by dynamic import', () => {
    expect(rules.onlyBinKnowsBoth(allImports).map(describeImport)).toEqual([])
  })

  it('storage and locks know nothing of sockets or frames', () => {
    expect(rules.storageAndLocksKnowNoWire(allImports).map(describeImport)).toEqual([])
  })

  it('no two folders import each other, directly or through other folders', () => {
    expect(folderCycles(allImports)).toEqual([])
  })

  it('only the entry files call process.exit', () => {
    expect(allExits.length).toBeGreaterThan(0) // the scan sees them: main.ts has some
    expect(exitsOutsideEntries(allExits).map(describeExit)).toEqual([])
  })
})

describe('the architecture rules catch what they should', () => {
  const imp = (from: string, specifier: string, target?: string, dynamic = false): Import => ({
    from,
    specifier,
    target,
    dynamic,
  })

  it('flags protocol importing fs, net or a sibling folder, and allows zod and its own files', () => {
    const bad = [
      imp('protocol/a.ts', 'node:fs'),
      imp('protocol/a.ts', 'fs/promises'),
      imp('protocol/a.ts', 'node:net'),
      imp('protocol/a.ts', 'node:worker_threads'),
      imp('protocol/a.ts', 'child_process'),
      imp('protocol/a.ts', '../server/x.js', 'server/x.js'),
    ]
    const good = [
      imp('protocol/a.ts', 'zod'),
      imp('protocol/a.ts', './b.js', 'protocol/b.js'),
      imp('protocol/a.ts', 'node:crypto'),
    ]
    expect(rules.protocolIsPure([...bad, ...good])).toEqual(bad)
  })

  it('flags client and server importing each other, and bin loading the server statically', () => {
    const bad = [
      imp('client/c.ts', '../server/s.js', 'server/s.js'),
      imp('server/s.ts', '../client/c.js', 'client/c.js'),
      imp('bin/tandem.ts', '../server/main.js', 'server/main.js'),
      imp('benchmarks/x.ts', '../client/c.js', 'client/c.js'),
    ]
    const good = [
      imp('bin/tandem.ts', '../server/main.js', 'server/main.js', true),
      imp('bin/tandem.ts', '../client/cli/run.js', 'client/cli/run.js'),
    ]
    expect([
      ...rules.clientAndServerApart([...bad, ...good]),
      ...rules.onlyBinKnowsBoth([...bad, ...good]),
    ]).toEqual([bad[0], bad[1], bad[0], bad[1], bad[2], bad[3]])
  })

  it('flags storage or locks importing net or a frame module', () => {
    const bad = [
      imp('server/storage/s.ts', 'node:net'),
      imp('server/locks/l.ts', '../../protocol/frame-decoder.js', 'protocol/frame-decoder.js'),
    ]
    const good = [
      imp('server/storage/s.ts', '../../protocol/errors.js', 'protocol/errors.js'),
      imp('server/net/n.ts', 'node:net'),
    ]
    expect(rules.storageAndLocksKnowNoWire([...bad, ...good])).toEqual(bad)
  })

  it('flags folders that import each other directly or through a third, not a folder and its sub-folder', () => {
    const ok = [
      imp('server/server.ts', './net/accept.js', 'server/net/accept.js'),
      imp('server/net/accept.ts', '../core.js', 'server/core.js'),
      imp('server/sync/a.ts', '../locks/b.js', 'server/locks/b.js'),
    ]
    expect(folderCycles(ok)).toEqual([])
    const back = imp('server/locks/b.ts', '../sync/a.js', 'server/sync/a.js')
    expect(folderCycles([...ok, back])).toEqual([
      {
        folders: ['server/locks', 'server/sync'],
        imports: [describeImport(back), describeImport(ok[2]!)],
      },
    ])
    const around = [
      imp('server/locks/b.ts', '../ops/c.js', 'server/ops/c.js'),
      imp('server/ops/c.ts', '../sync/a.js', 'server/sync/a.js', true),
    ]
    expect(folderCycles([...ok, ...around]).map((c) => c.folders)).toEqual([
      ['server/locks', 'server/ops', 'server/sync'],
    ])
  })

  it('flags process.exit and process.abort outside the entry files', () => {
    const exits: Exit[] = [
      { from: 'server/main.ts', call: 'process.exit', line: 1 },
      { from: 'server/sync/x.ts', call: 'process.exit', line: 2 },
      { from: 'client/cli/y.ts', call: 'process.abort', line: 3 },
    ]
    expect(exitsOutsideEntries(exits)).toEqual([exits[1], exits[2]])
  })
})
