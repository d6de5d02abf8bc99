// Bundles the compiled CLI into dist/bundle/ so that `warden` loads one module instead of a
// few dozen: start-up time is most of `warden run -- true` (see bench/RESULTS.md). The policy
// loader (YAML + schema) stays a separate chunk, loaded only when a policy file is given.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  ...common,
  // The netns listener and connector run as processes of their own (see src/sandbox/netns.ts).
  // The identity worker is a worker thread's script, loaded by its file name.
  entryPoints: ['dist/src/cli/main.js', 'dist/src/sandbox/netns-listener.js', 'dist/src/sandbox/netns-connector.js', 'dist/src/egress/identity-worker.js'],
  outdir: 'dist/bundle',
  entryNames: '[name]',
  splitting: true,
  // better-sqlite3's JavaScript is bundled (Node resolving and loading its ten files cost more
  // than the rest of opening the store); its addon loads from node_modules (src/store/open.ts).
  // `bindings` is its fallback lookup, which warden never lets it take. ink and react
  // (`warden term` only) load from node_modules: nothing else pays for them.
  external: ['bindings', 'ink', 'react'],
  // commander is CommonJS and calls require() for node builtins.
  banner: { js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);" },
});
