// warden's layout rules (docs/architecture.md), as an ESLint plugin:
//   boundaries - a component (a directory under src/) imports another only through its index.ts;
//   no-cycles  - no import cycles between components (checked on the whole graph of src/).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm;

/** The component a file belongs to, or undefined outside src/. */
function componentOf(file) {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const [first] = relative.split(path.sep);
  return first;
}

/** The source file an import specifier names (the compiled .js names its .ts). */
function resolveImport(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  return path.resolve(path.dirname(from), specifier).replace(/\.js$/, '.ts');
}

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

let graph;
/** Component -> components it imports (type-only imports included: they couple the code as much). */
function componentGraph() {
  if (graph) return graph;
  graph = new Map();
  for (const file of sourceFiles(SRC)) {
    const from = componentOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolveImport(file, match[1] ?? match[2] ?? match[3]);
      const to = target && componentOf(target);
      if (to && to !== from) graph.get(from).add(to);
    }
  }
  return graph;
}

/** A path of components from `start` back to `start`, or undefined. */
function cycleThrough(start, first) {
  const edges = componentGraph();
  const stack = [[first, [start, first]]];
  const seen = new Set();
  while (stack.length > 0) {
    const [node, trail] = stack.pop();
    if (node === start) return trail;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const next of edges.get(node) ?? []) stack.push([next, [...trail, next]]);
  }
  return undefined;
}

function importSpecifier(node) {
  return node.source && typeof node.source.value === 'string' ? node.source.value : undefined;
}

const boundaries = {
  meta: { type: 'problem', docs: { description: 'components import each other through index.ts only' }, schema: [] },
  create(context) {
    const file = context.filename;
    const from = componentOf(file);
    if (from === undefined) {
      // Tests, benchmarks and scripts may reach into the component they exercise.
      return {};
    }
    const check = (node) => {
      const specifier = importSpecifier(node);
      const target = specifier && resolveImport(file, specifier);
      const to = target && componentOf(target);
      if (!to || to === from) return;
      if (path.basename(target) !== 'index.ts' || path.dirname(target) !== path.join(SRC, to)) {
        context.report({ node: node.source, message: `src/${from} reaches into src/${to} (${specifier}): import '../${to}/index.js' instead` });
      }
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

const noCycles = {
  meta: { type: 'problem', docs: { description: 'no import cycles between components' }, schema: [] },
  create(context) {
    const file = context.filename;
    const from = componentOf(file);
    if (from === undefined) return {};
    const check = (node) => {
      const specifier = importSpecifier(node);
      const target = specifier && resolveImport(file, specifier);
      const to = target && componentOf(target);
      if (!to || to === from) return;
      const cycle = cycleThrough(from, to);
      if (cycle) context.report({ node: node.source, message: `import cycle between components: ${cycle.join(' -> ')}` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { meta: { name: 'warden-architecture' }, rules: { boundaries, 'no-cycles': noCycles } };
