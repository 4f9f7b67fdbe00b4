/**
 * The front end's own sources, parsed with the TypeScript compiler: the house rules
 * (function length, import graph, unused exports) are measured from these.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

export const SRC = resolve(dirname(new URL(import.meta.url).pathname), "..");

export interface Source {
  /** Path relative to src, with forward slashes. */
  path: string;
  file: ts.SourceFile;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** A source from text (the checks' own tests build small made-up trees with it). */
export function sourceOf(path: string, text: string): Source {
  return { path, file: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, path.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS) };
}

export function productSources(): Source[] {
  return walk(SRC)
    .map((full) => ({ full, path: relative(SRC, full).split("\\").join("/") }))
    .filter(({ path }) => !/\.test\.tsx?$/.test(path))
    .map(({ full, path }) => ({
      path,
      file: ts.createSourceFile(full, readFileSync(full, "utf8"), ts.ScriptTarget.Latest, true, full.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS),
    }));
}

/** A function of any kind, named where the source names it. */
export interface FunctionSpan {
  path: string;
  name: string;
  line: number;
  lines: number;
}

function nameOf(node: ts.Node, file: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(file);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText(file);
  if (parent && ts.isCallExpression(parent)) return `(argument of ${parent.expression.getText(file).slice(0, 40)})`;
  return "(anonymous)";
}

export function functionSpans(source: Source): FunctionSpan[] {
  const out: FunctionSpan[] = [];
  const { file } = source;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ path: source.path, name: nameOf(node, file), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** Relative imports of a file (type-only ones too: a circle of types is still a circle), resolved to paths under src. */
export function localImports(source: Source, known: Set<string>): string[] {
  const out: string[] = [];
  const from = dirname(source.path);
  const add = (spec: string) => {
    if (!spec.startsWith(".")) return;
    const base = join(from, spec).split("\\").join("/");
    const hit = [`${base}.ts`, `${base}.tsx`, `${base}/index.ts`, `${base}/index.tsx`, base].find((p) => known.has(p));
    if (hit) out.push(hit);
  };
  for (const st of source.file.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      add(st.moduleSpecifier.text);
    }
  }
  return out;
}

/** Every circle in the import graph, as the list of files around it. */
export function importCycles(sources: Source[]): string[][] {
  const known = new Set(sources.map((s) => s.path));
  const graph = new Map(sources.map((s) => [s.path, localImports(s, known)]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (p: string) => {
    state.set(p, "open");
    stack.push(p);
    for (const q of graph.get(p) ?? []) {
      if (state.get(q) === "open") cycles.push([...stack.slice(stack.indexOf(q)), q]);
      else if (!state.has(q)) visit(q);
    }
    stack.pop();
    state.set(p, "done");
  };
  for (const p of graph.keys()) if (!state.has(p)) visit(p);
  return cycles;
}

function hasExportKeyword(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** Names a file exports itself (declarations and `export { }` lists; not `export *`). */
export function exportedNames(source: Source): string[] {
  const out: string[] = [];
  for (const st of source.file.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) out.push(el.name.text);
    } else if (hasExportKeyword(st)) {
      if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) out.push(d.name.text);
      } else {
        const name = (st as ts.Node & { name?: ts.Identifier }).name;
        if (name) out.push(name.text);
      }
    }
  }
  return out;
}

/**
 * Exports no other file imports (tests count as users: a pure helper that only its tests
 * call is still tested logic). Barrels (`export * from`) pass names through.
 */
export function unusedExports(product: Source[], all: Source[]): string[] {
  const known = new Set(all.map((s) => s.path));
  const byPath = new Map(all.map((s) => [s.path, s]));
  const starFrom = (barrel: Source) =>
    barrel.file.statements.flatMap((st) =>
      ts.isExportDeclaration(st) && !st.exportClause ? localImports({ ...barrel, file: ts.factory.updateSourceFile(barrel.file, [st]) }, known) : []);
  /** The files a name imported from `path` may come from (through barrels). */
  const origins = (path: string, seen = new Set<string>()): string[] => {
    if (seen.has(path)) return [];
    seen.add(path);
    const source = byPath.get(path);
    return source ? [path, ...starFrom(source).flatMap((p) => origins(p, seen))] : [path];
  };
  const used = new Set<string>();
  for (const source of all) {
    for (const st of source.file.statements) {
      if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue;
      const [target] = localImports({ ...source, file: ts.factory.updateSourceFile(source.file, [st]) }, known);
      if (!target) continue;
      const names: string[] = [];
      if (ts.isImportDeclaration(st)) {
        const clause = st.importClause;
        if (clause?.name) names.push("default");
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) names.push((el.propertyName ?? el.name).text);
        if (bindings && ts.isNamespaceImport(bindings)) names.push("*");
      } else if (st.exportClause && ts.isNamedExports(st.exportClause)) {
        for (const el of st.exportClause.elements) names.push((el.propertyName ?? el.name).text);
      }
      for (const origin of origins(target)) for (const n of names) used.add(`${origin}#${n}`);
    }
  }
  return product.flatMap((s) =>
    used.has(`${s.path}#*`) ? [] : exportedNames(s).filter((n) => !used.has(`${s.path}#${n}`)).map((n) => `${s.path}: ${n}`));
}

/** Every source file under src, tests included. */
export function allSources(): Source[] {
  return walk(SRC)
    .map((full) => ({ full, path: relative(SRC, full).split("\\").join("/") }))
    .map(({ full, path }) => ({
      path,
      file: ts.createSourceFile(full, readFileSync(full, "utf8"), ts.ScriptTarget.Latest, true, full.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS),
    }));
}

/** How many times an identifier appears in a file (its declaration counts once). */
export function mentions(source: Source, name: string): number {
  let count = 0;
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node) && node.text === name) count += 1;
    ts.forEachChild(node, visit);
  };
  visit(source.file);
  return count;
}

/** Exports nothing uses at all, not even the file that declares them: dead code. */
export function deadExports(product: Source[], all: Source[]): string[] {
  const byPath = new Map(product.map((s) => [s.path, s]));
  return unusedExports(product, all).filter((entry) => {
    const [path, name] = entry.split(": ");
    return mentions(byPath.get(path)!, name) <= 1;
  });
}
