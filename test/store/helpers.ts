import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/** A fresh directory to use as WARDEN_HOME (not yet created: openStore creates it). */
export function tempHome(label = 'store'): string {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), `warden-${label}-`));
  after(() => fs.rmSync(parent, { recursive: true, force: true }));
  return path.join(parent, 'home');
}
