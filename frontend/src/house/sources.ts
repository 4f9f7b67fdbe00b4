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

export function productSources(): Source[] {
  return walk(SRC)
    .map((full) => ({ full, path: relative(SRC, full).split("\\").join("/") }))
    .filter(({ path }) => !/\.test\.tsx?$/.test(path) && !path.startsWith("house/"))
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
