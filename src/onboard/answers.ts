// The answers onboarding takes, from a prompt or a flag, checked one by one: each parser returns
// the value to keep or throws an AnswerError that says what is wrong and what would do. The
// wizard prints the message and asks again; the non-interactive form stops with it.

import { checkProviderName, type ProviderProfile } from '../inference/index.js';
import { isTier, TIER_NAMES, type Tier } from './tiers.js';

export class AnswerError extends Error {}

/** Provider types that serve models, in the order the wizard lists them. */
export function modelProviderTypes(profiles: Iterable<ProviderProfile>): ProviderProfile[] {
  const order = ['nvidia', 'openai', 'anthropic', 'ollama', 'vllm', 'openai-compatible'];
  const rank = (type: string) => (order.includes(type) ? order.indexOf(type) : order.length);
  return [...profiles].filter((p) => p.api !== undefined).sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}

/** A number from a numbered list (1-based), or undefined when the answer is not one. */
function picked<T>(answer: string, choices: readonly T[]): T | undefined {
  if (!/^\d+$/.test(answer)) return undefined;
  return choices[Number(answer) - 1];
}

export function parseProviderType(answer: string, types: readonly ProviderProfile[]): ProviderProfile {
  const value = answer.trim();
  const found = picked(value, types) ?? types.find((p) => p.type === value.toLowerCase());
  if (found !== undefined) return found;
  if (value === '') throw new AnswerError(`choose a provider type: ${types.map((p) => p.type).join(', ')}`);
  throw new AnswerError(`${JSON.stringify(value)} is not a model provider type; one of: ${types.map((p) => p.type).join(', ')}`);
}

/** A provider name: well formed, and not already taken by a provider of another type. */
export function parseProviderName(answer: string, type: string, existing: ReadonlyArray<{ name: string; type: string }>): string {
  const name = answer.trim();
  try {
    checkProviderName(name);
  } catch (error) {
    throw new AnswerError((error as Error).message);
  }
  const taken = existing.find((p) => p.name === name);
  if (taken !== undefined && taken.type !== type) throw new AnswerError(`a provider named ${name} exists with type ${taken.type}; choose another name`);
  return name;
}

/** A model server's base URL: http(s), no user or password in it, no query; without a trailing slash. */
export function parseEndpoint(answer: string): string {
  const value = answer.trim();
  if (value === '') throw new AnswerError('an endpoint URL is needed, e.g. http://127.0.0.1:8000/v1');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AnswerError(`${JSON.stringify(value)} is not a URL; expected e.g. http://127.0.0.1:8000/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new AnswerError(`the endpoint must be an http:// or https:// URL, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new AnswerError('the endpoint must not carry a user or password: the key is asked for separately');
  if (url.search !== '' || url.hash !== '') throw new AnswerError('the endpoint is a base URL (e.g. http://127.0.0.1:8000/v1): no ?query or #fragment');
  return value.replace(/\/+$/, '');
}

/** A model name, or a number picking one of the models the provider listed. */
export function parseModel(answer: string, listed: readonly string[] = []): string {
  const value = answer.trim();
  const chosen = picked(value, listed) ?? value;
  if (chosen === '') throw new AnswerError('a model is needed (the name the provider knows it by)');
  if (chosen.length > 256) throw new AnswerError('a model name has at most 256 characters');

  if (/[\s\x00-\x1f\x7f]/.test(chosen)) throw new AnswerError(`${JSON.stringify(chosen)}: a model name has no spaces or control characters`);
  return chosen;
}

export function parseTier(answer: string): Tier {
  const value = answer.trim().toLowerCase();
  const found = picked(value, TIER_NAMES) ?? value;
  if (isTier(found)) return found;
  throw new AnswerError(`${JSON.stringify(answer.trim())} is not a policy tier; one of: ${TIER_NAMES.join(', ')}`);
}

/**
 * Preset names (a list, or one answer separated by commas or spaces), each a shipped preset;
 * `none` alone means none. Sorted and without repeats, so the same choice compares equal.
 */
export function parsePresets(answers: string | readonly string[], known: readonly string[]): string[] {
  const names = (typeof answers === 'string' ? [answers] : answers).flatMap((a) => a.split(/[\s,]+/)).map((n) => n.trim().toLowerCase()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new AnswerError(`no preset named ${unknown.join(', ')}; shipped presets: ${known.join(', ')} (or none)`);
  return [...new Set(names)].sort();
}

export function parseYesNo(answer: string, fallback: boolean): boolean {
  const value = answer.trim().toLowerCase();
  if (value === '') return fallback;
  if (['y', 'yes'].includes(value)) return true;
  if (['n', 'no'].includes(value)) return false;
  throw new AnswerError('answer y or n');
}

/**
 * An environment variable's name, as --credential takes it. A value on the command line is
 * refused: every user of the machine sees it in `ps`.
 */
export function parseVariableName(answer: string): string {
  if (answer.includes('=')) throw new AnswerError(`--credential ${answer.split('=')[0]}: give the variable's name only; a value on the command line is visible to every user in ps`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(answer)) throw new AnswerError(`--credential ${answer}: expected an environment variable name`);
  return answer;
}
