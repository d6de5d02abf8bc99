// Trust on first use of each executable path: the first hash seen for a path (per proxy
// instance) is remembered, and a later caller running a different file under the same path is
// refused. This catches a binary swapped in place after the policy was written for it.

export type IntegrityCheck = { ok: true } | { ok: false; expected: string; actual: string };

export class BinaryLedger {
  private readonly seen = new Map<string, string>();

  check(path: string, sha256: string): IntegrityCheck {
    const known = this.seen.get(path);
    if (known === undefined) {
      this.seen.set(path, sha256);
      return { ok: true };
    }
    return known === sha256 ? { ok: true } : { ok: false, expected: known, actual: sha256 };
  }

  get size(): number {
    return this.seen.size;
  }
}
