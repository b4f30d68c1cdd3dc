// The dependency rules of ARCHITECTURE.md (Modules), checked by reading the import statements of every source file.
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

const allImports = sourceFiles(srcDir).flatMap(importsOf)

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
})
