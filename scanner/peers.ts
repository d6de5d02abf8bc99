// The detectors compared in `npm run eval:scanner`: warden's scanner and the JavaScript prompt-
// injection detectors on npm, installed as devDependencies. A peer that cannot be loaded is
// reported as unavailable, with the reason, instead of failing the run.
import { createRequire } from 'node:module';
import { scanText } from '../../src/governance/index.js';

export interface Detector {
  name: string;
  /** How it is called, for the notes under the table. */
  how: string;
  detect: (text: string) => boolean;
  /** For speed runs: the same detector with any input-length limit lifted. */
  detectUnlimited: (text: string) => boolean;
  /** warden only: a 0..1 score, for comparisons at a matched false-positive rate. */
  score?: (text: string) => number;
}

export interface Unavailable {
  name: string;
  reason: string;
}

const require = createRequire(import.meta.url);

export function wardenDetector(): Detector {
  return {
    name: 'warden scanner',
    how: 'scanText(text).verdict !== "pass" (default thresholds)',
    detect: (text) => scanText(text).verdict !== 'pass',
    detectUnlimited: (text) => scanText(text).verdict !== 'pass',
    score: (text) => scanText(text).score,
  };
}

interface VardResult { safe: boolean; data?: string }
interface VardBuilder { safeParse: (text: string) => VardResult; maxLength: (n: number) => VardBuilder }
interface Vard { safe: (text: string) => VardResult; strict: () => VardBuilder; moderate: () => VardBuilder }

/** vard "detects" when it refuses the input or changes it (it sanitises some threat types instead of refusing). */
const vardFlags = (text: string, r: VardResult) => !r.safe || r.data !== text;

export async function peerDetectors(): Promise<{ detectors: Detector[]; unavailable: Unavailable[] }> {
  const detectors: Detector[] = [];
  const unavailable: Unavailable[] = [];
  try {
    const vard = ((await import('@andersmyrmel/vard')) as unknown as { default: Vard }).default;
    const strict = vard.strict();
    const moderateUnlimited = vard.moderate().maxLength(Number.MAX_SAFE_INTEGER);
    const strictUnlimited = vard.strict().maxLength(Number.MAX_SAFE_INTEGER);
    detectors.push({
      name: 'vard (default)', how: 'vard.safe(text): refused or sanitised',
      detect: (text) => vardFlags(text, vard.safe(text)),
      detectUnlimited: (text) => vardFlags(text, moderateUnlimited.safeParse(text)),
    });
    detectors.push({
      name: 'vard (strict)', how: 'vard.strict().safeParse(text): refused or sanitised',
      detect: (text) => vardFlags(text, strict.safeParse(text)),
      detectUnlimited: (text) => vardFlags(text, strictUnlimited.safeParse(text)),
    });
  } catch (error) {
    unavailable.push({ name: '@andersmyrmel/vard', reason: String((error as Error).message ?? error) });
  }
  try {
    const agt = require('@microsoft/agent-governance-sdk') as {
      ContextPoisoningDetector: new () => { scanEntry: (entry: Record<string, unknown>) => unknown[] };
      McpSecurityScanner: new () => { scan: (tool: { name: string; description: string }) => { safe: boolean } };
    };
    const poisoning = new agt.ContextPoisoningDetector();
    const entry = (content: string) => ({ entryId: 'e', sessionId: 's', agentId: 'a', role: 'tool', content, timestamp: '2025-01-01T00:00:00Z' });
    const detectPoisoning = (text: string) => poisoning.scanEntry(entry(text)).length > 0;
    detectors.push({
      name: 'AGT ContextPoisoningDetector', how: 'new ContextPoisoningDetector().scanEntry({role: "tool", content: text}): any finding',
      detect: detectPoisoning, detectUnlimited: detectPoisoning,
    });
    const mcp = new agt.McpSecurityScanner();
    const detectMcp = (text: string) => !mcp.scan({ name: 'document', description: text }).safe;
    detectors.push({
      name: 'AGT McpSecurityScanner', how: 'new McpSecurityScanner().scan({name: "document", description: text}): not safe',
      detect: detectMcp, detectUnlimited: detectMcp,
    });
  } catch (error) {
    unavailable.push({ name: '@microsoft/agent-governance-sdk', reason: String((error as Error).message ?? error) });
  }
  return { detectors, unavailable };
}
