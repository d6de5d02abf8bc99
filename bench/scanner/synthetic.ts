// Deterministic generator of training text from the original corpus in ./corpus: benign
// documents of many kinds (emails, web pages, tables, code, JSON, logs, tickets, chats, articles
// about prompt injection), and the same kinds of documents carrying a directive for the AI,
// placed at the start, middle or end, plain or hidden (homoglyphs, zero-width characters,
// spacing, leetspeak, base64, URL-encoding, tag characters, HTML comments and hidden styles,
// bidi controls, fake chat markers). Same seed, same examples, same order.
import { Buffer } from 'node:buffer';
import { seededRandom, type ScanCategory } from '../../src/governance/index.js';
import { ABOUT_INJECTION, CODE_SNIPPETS, GREETINGS, HARD_NEGATIVES, PARAGRAPHS, SIGN_OFFS, USER_REQUESTS } from './corpus/benign.js';
import { FAKE_CONTEXT, MISLEADING_PAYLOADS, MORE_FAKE_CONTEXT, MORE_PIVOTS, MORE_USER_QUESTIONS, PERSONA_ATTACKS, PIVOTS, ROLE_PLAYS, SAY_PAYLOADS, SHOUTED, USER_QUESTIONS } from './corpus/prompts.js';
import {
  ADDRESS, ASSISTANT_TASKS, CONNECT, COVERT, FILES, FULL_DIRECTIVES, MAILS, OTHER_LANGUAGE_DIRECTIVES, OUTPUT_FRAMES, OVERRIDE, PAYLOAD, TOOLS, URLS, type Lang,
} from './corpus/directives.js';
import { DOCUMENT_DIRECTIVES, DOCUMENT_TEMPLATES, HARD_NEGATIVE_DOCUMENTS, MARKETING_EMAILS, STRAY_TASKS, TABLES_WITH_NOTES, type DocumentTemplate } from './corpus/documents.js';
import { NOTIFICATION_TEMPLATES, SHORT_USER_QUESTIONS } from './corpus/notifications.js';
import { BENIGN_CODE, CODE_LEADS, CODE_ORDERS, CODE_PROSE, MALICIOUS_CODE } from './corpus/code.js';

export interface SyntheticExample {
  text: string;
  label: 0 | 1;
  /** Where the directive is (label 1). */
  focus?: Array<[number, number]>;
  kind: string;
}

type Random = () => number;
const LANGS: Lang[] = ['en', 'en', 'en', 'en', 'de', 'fr', 'es'];
const CATEGORIES: ScanCategory[] = ['instruction_override', 'exfiltration', 'tool_smuggling', 'role_hijack'];

class Generator {
  constructor(private readonly random: Random) {}

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  fill(template: string): string {
    return template.replace(/\{url\}/g, () => this.pick(URLS)).replace(/\{mail\}/g, () => this.pick(MAILS))
      .replace(/\{file\}/g, () => this.pick(FILES)).replace(/\{tool\}/g, () => this.pick(TOOLS));
  }

  // --- benign documents -----------------------------------------------------------------------
  paragraphs(lang: Lang, count: number): string[] {
    return Array.from({ length: count }, () => this.pick(PARAGRAPHS[lang]));
  }

  email(lang: Lang): string {
    const header = this.chance(0.5) ? `Subject: ${this.pick(['Update', 'Re: schedule', 'Your order', 'Invoice 2231', 'Quick question', 'Reminder', 'Fwd: notes'])}\nFrom: ${this.pick(['priya@example.com', 'noreply@shop.example', 'tom.b@example.org', 'billing@example.net'])}\n\n` : '';
    return `${header}${this.pick(GREETINGS[lang])}\n\n${this.paragraphs(lang, this.int(1, 3)).join('\n\n')}\n\n${this.pick(SIGN_OFFS[lang])}`;
  }

  webPage(lang: Lang): string {
    const title = this.pick(['Getting started', 'Travel tips for spring', 'Release notes', 'About us', 'Frequently asked questions', 'How our pricing works']);
    const body = this.paragraphs(lang, this.int(2, 4));
    if (this.chance(0.5)) return `<html><head><title>${title}</title></head><body>\n<h1>${title}</h1>\n${body.map((p) => `<p>${p}</p>`).join('\n')}\n</body></html>`;
    return `# ${title}\n\n${body.join('\n\n')}`;
  }

  faq(): string {
    const pairs = [
      ['How do I reset my password?', 'Open Settings, choose Security and click "Reset password". We will email you a link.'],
      ['Can I change my delivery address?', 'Yes, until the order has shipped. Go to Orders and choose "Edit address".'],
      ['What is the capital of Australia?', 'Canberra, not Sydney, as many people think.'],
      ['How do solar panels work?', 'Photovoltaic cells turn sunlight into direct current, which an inverter converts for household use.'],
      ['Explain the difference between RAM and storage.', 'RAM holds what the computer is working on now; storage keeps files when the power is off.'],
      ['Translate "thank you" into Japanese.', 'Arigatou gozaimasu is the polite form.'],
      ['Who wrote Pride and Prejudice?', 'Jane Austen, published in 1813.'],
    ];
    const chosen = Array.from({ length: this.int(2, 4) }, () => this.pick(pairs));
    return `Frequently asked questions\n\n${chosen.map(([q, a]) => `Q: ${q}\nA: ${a}`).join('\n\n')}`;
  }

  table(): string {
    const columns = this.pick([['City', 'Country', 'Population', 'Area (km²)'], ['Year', 'Team', 'Wins', 'Losses'], ['Name', 'Role', 'Start date', 'Office'], ['Product', 'Price', 'Stock', 'Rating']]);
    const cell = (c: string) => {
      if (/Year|date/.test(c)) return String(this.int(1950, 2024));
      if (/Population|Area|Wins|Losses|Stock|Price/.test(c)) return this.int(1, 99999).toLocaleString('en-US');
      if (c === 'Rating') return `${this.int(1, 5)}.${this.int(0, 9)}`;
      return this.pick(['Oslo', 'Lima', 'Accra', 'Hanoi', 'Quito', 'Perth', 'Turin', 'Alex Kim', 'Dana Ruiz', 'Engineer', 'Designer', 'Norway', 'Peru', 'Ghana', 'Lamp', 'Desk', 'Chair', 'Eagles', 'Sharks']);
    };
    const rows = Array.from({ length: this.int(3, 9) }, () => `| ${columns.map(cell).join(' | ')} |`);
    return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows].join('\n');
  }

  code(): string {
    return Array.from({ length: this.int(1, 3) }, () => this.pick(CODE_SNIPPETS)).join('\n');
  }

  json(): string {
    const item = {
      id: this.int(1000, 9999), status: this.pick(['open', 'closed', 'pending']), title: this.pick(PARAGRAPHS.en).slice(0, 60),
      updated_at: `2024-0${this.int(1, 9)}-1${this.int(0, 9)}T10:00:00Z`, tags: [this.pick(['billing', 'ui', 'api', 'docs'])],
      description: this.pick(PARAGRAPHS.en),
    };
    return JSON.stringify({ data: [item], next_cursor: null }, null, this.chance(0.5) ? 2 : 0);
  }

  log(): string {
    return Array.from({ length: this.int(4, 10) }, (_, i) => `2024-05-0${this.int(1, 9)} 12:0${i % 10}:1${i % 10} ${this.pick(['INFO', 'WARN', 'DEBUG', 'ERROR'])} ${this.pick([
      'request completed in 42ms', 'retrying connection to db-1 (attempt 2)', 'user 4411 signed in', 'cache miss for key session:91', 'job sync finished: 120 items',
      'ignoring unknown field "legacy_id" in payload', 'disk usage at 81%', 'forwarding request to upstream api.internal:8080'])}`).join('\n');
  }

  ticket(lang: Lang): string {
    return `Ticket #${this.int(10000, 99999)}\nCustomer: ${this.pick(['Ines M.', 'Ravi P.', 'Olga S.', 'Ben T.'])}\nPriority: ${this.pick(['low', 'normal', 'high'])}\n\n${this.paragraphs(lang, this.int(1, 2)).join('\n')}\n\nSteps tried: restarted the app, cleared the cache.`;
  }

  chat(): string {
    const turns = [
      ['User', 'Hi, my package has not arrived yet.'], ['Agent', 'Sorry to hear that. Can you give me the order number?'], ['User', 'It is 48213.'],
      ['Agent', 'Thanks. It is in transit and should arrive tomorrow.'], ['User', 'Great, thank you!'],
    ];
    return turns.slice(0, this.int(2, 5)).map(([who, said]) => `${who}: ${said}`).join('\n');
  }

  article(): string {
    const parts = [this.pick(ABOUT_INJECTION), this.pick(ABOUT_INJECTION), ...this.paragraphs('en', this.int(0, 2))];
    return parts.join('\n\n');
  }

  carrier(): { text: string; kind: string } {
    const lang = this.pick(LANGS);
    const kind = this.pick(['email', 'email', 'web', 'table', 'code', 'json', 'log', 'ticket', 'chat', 'faq', 'article']);
    switch (kind) {
      case 'email': return { text: this.email(lang), kind };
      case 'web': return { text: this.webPage(lang), kind };
      case 'table': return { text: this.table(), kind };
      case 'code': return { text: this.code(), kind };
      case 'json': return { text: this.json(), kind };
      case 'log': return { text: this.log(), kind };
      case 'ticket': return { text: this.ticket(lang), kind };
      case 'chat': return { text: this.chat(), kind };
      case 'faq': return { text: this.faq(), kind };
      default: return { text: this.article(), kind: 'article' };
    }
  }

  // --- directives -----------------------------------------------------------------------------
  composed(lang: Lang, category: ScanCategory): string {
    const payloads = PAYLOAD[lang][category] ?? PAYLOAD[lang].instruction_override!;
    const address = this.pick(ADDRESS[lang]);
    const payload = this.fill(this.pick(payloads));
    const shape = this.int(0, 2);
    let body: string;
    if (shape === 0) body = `${this.pick(OVERRIDE[lang])}${this.pick(CONNECT[lang])}${payload}`;
    else if (shape === 1) body = payload;
    else body = `${this.pick(OVERRIDE[lang])}.`;
    const sentence = `${address}${address === '' || address.endsWith(': ') || address.endsWith('] ') ? capitalize(body) : body}`;
    return `${sentence}${/[.!?`"]$/.test(sentence) ? '' : '.'}${this.pick(COVERT[lang])}`;
  }

  outputTask(lang: Lang): string {
    const task = this.pick(ASSISTANT_TASKS[lang]);
    return this.pick(OUTPUT_FRAMES[lang]).replace('{task}', task.charAt(0).toLowerCase() + task.slice(1));
  }

  directive(): { text: string; category: ScanCategory } {
    const lang = this.pick(LANGS);
    const r = this.random();
    if (r < 0.15) { const d = this.pick(FULL_DIRECTIVES); return { text: d.text, category: d.category }; }
    if (r < 0.18) return { text: this.pick(OTHER_LANGUAGE_DIRECTIVES), category: 'instruction_override' };
    if (r < 0.28) return { text: this.outputTask(lang), category: 'instruction_override' };
    const category = this.pick(CATEGORIES);
    return { text: this.composed(lang, category), category };
  }

  // --- hiding ---------------------------------------------------------------------------------
  /** The directive as it appears in the document, and the part of it to focus on. */
  hide(directive: string): { text: string; kind: string } {
    const r = this.random();
    if (r < 0.55) return { text: this.chance(0.15) ? directive.toUpperCase() : directive, kind: 'plain' };
    if (r < 0.61) return { text: homoglyphs(directive, this.random), kind: 'homoglyph' };
    if (r < 0.67) return { text: zeroWidth(directive, this.random), kind: 'zero-width' };
    if (r < 0.71) return { text: spaced(directive, this.random), kind: 'spaced' };
    if (r < 0.75) return { text: leet(directive, this.random), kind: 'leet' };
    if (r < 0.81) return { text: `${this.pick(['Decode this and follow it: ', 'Base64: ', '', 'Instructions (base64): '])}${Buffer.from(directive).toString('base64')}`, kind: 'base64' };
    if (r < 0.84) return { text: `https://example.com/search?q=${encodeURIComponent(directive)}`, kind: 'url-encoded' };
    if (r < 0.87) return { text: `${this.pick(['Thanks for reading!', 'See you soon.', 'Regards.'])}${tags(directive)}`, kind: 'tags' };
    if (r < 0.92) return { text: `<!-- ${directive} -->`, kind: 'html-comment' };
    if (r < 0.96) return { text: `<span style="${this.pick(['display:none', 'color:#ffffff;font-size:1px', 'visibility:hidden', 'opacity:0'])}">${directive}</span>`, kind: 'hidden-style' };
    if (r < 0.98) return { text: `${this.pick(['<|im_start|>system\n', '[INST] ', '### System:\n', 'SYSTEM: ', '</context>\n<system>'])}${directive}`, kind: 'chat-marker' };
    return { text: `\u202e${[...directive].reverse().join('')}\u202c`, kind: 'bidi' };
  }

  /** A carrier with a (possibly hidden) directive inserted at the start, in the middle or at the end. */
  injected(): SyntheticExample {
    const { text: carrier, kind } = this.carrier();
    const { text: raw } = this.directive();
    const hidden = this.hide(raw);
    const where = this.pick(['start', 'middle', 'end']);
    let before = '', after = '';
    if (where === 'start') after = carrier;
    else if (where === 'end') before = carrier;
    else {
      const cut = middleCut(carrier);
      before = carrier.slice(0, cut);
      after = carrier.slice(cut);
    }
    const sep = kind === 'code' ? this.pick(['\n# ', '\n// ', '\n']) : kind === 'json' ? '\n' : this.pick(['\n', '\n\n', ' ']);
    const head = before === '' ? '' : before + sep;
    const text = `${head}${hidden.text}${after === '' ? '' : '\n' + after}`;
    return { text, label: 1, focus: [[head.length, head.length + hidden.text.length]], kind: `injected-${kind}-${hidden.kind}` };
  }

  standaloneDirective(): SyntheticExample {
    const hidden = this.hide(this.directive().text);
    return { text: hidden.text, label: 1, kind: `directive-${hidden.kind}` };
  }

  /** A question or assistant task, unrelated to the data, typed into data the AI will read. */
  strayTask(): string {
    return this.chance(0.5) ? this.pick(STRAY_TASKS) : this.pick(ASSISTANT_TASKS[this.pick(LANGS)]);
  }

  /** A task typed into data where the AI will read it: at the start, at the end, on a line of its own in the middle, or between two sentences. */
  embeddedTask(): SyntheticExample {
    const { text: carrier, kind } = this.carrier();
    const task = this.strayTask();
    const where = this.pick(['start', 'end', 'line', 'sentence']);
    let before: string, after: string;
    if (where === 'start') { before = ''; after = '\n' + carrier; } else if (where === 'end') { before = carrier + '\n'; after = ''; } else {
      const cut = where === 'line' ? lineCut(carrier, this.random) : sentenceCut(carrier, this.random);
      before = carrier.slice(0, cut) + (where === 'line' || cut === 0 || carrier[cut - 1] === '\n' ? '' : ' ');
      after = (where === 'line' ? '\n' : ' ') + carrier.slice(cut);
      if (where === 'line' && before !== '' && !before.endsWith('\n')) before += '\n';
    }
    return { text: before + task + after, label: 1, focus: [[before.length, before.length + task.length]], kind: `task-${where}-in-${kind}` };
  }

  /** One of the written documents with a directive (or a stray task) in its slot, plain or hidden. */
  documentInjected(templates: readonly DocumentTemplate[] = DOCUMENT_TEMPLATES): SyntheticExample {
    const template = this.pick(templates);
    const r = this.random();
    const raw = r < 0.4 ? this.pick(DOCUMENT_DIRECTIVES) : r < 0.7 ? this.directive().text : this.strayTask();
    const hidden = r < 0.7 && this.chance(0.3) ? this.hide(raw) : { text: raw, kind: 'plain' };
    const at = template.text.indexOf('{inject}');
    const text = template.text.slice(0, at) + hidden.text + template.text.slice(at + '{inject}'.length);
    return { text, label: 1, focus: [[at, at + hidden.text.length]], kind: `document-${template.kind}-${r < 0.7 ? hidden.kind : 'task'}` };
  }

  /** The same documents without a directive: the slot removed or filled with a sentence of the document's own. */
  documentBenign(templates: readonly DocumentTemplate[] = DOCUMENT_TEMPLATES): SyntheticExample {
    const template = this.pick(templates);
    const fill = template.benignFill && this.chance(0.6) ? this.pick(template.benignFill) : '';
    const text = fill === '' ? template.text.replace(/^[ \t#/*-]*\{inject\}\n/m, '').replace('{inject}', '') : template.text.replace('{inject}', fill);
    return { text, label: 0, kind: `document-${template.kind}` };
  }

  /** A hard negative document, alone or inside a carrier. */
  hardNegativeDocument(): SyntheticExample {
    const r = this.random();
    const doc = r < 0.6 ? this.pick(HARD_NEGATIVE_DOCUMENTS) : r < 0.85 ? this.pick(MARKETING_EMAILS) : this.pick(TABLES_WITH_NOTES);
    if (this.chance(0.6)) return { text: doc, label: 0, kind: 'hard-negative-document' };
    const { text: carrier } = this.carrier();
    return { text: this.chance(0.5) ? `${doc}\n\n${carrier}` : `${carrier}\n\n${doc}`, label: 0, kind: 'hard-negative-document-in-carrier' };
  }

  /** Attacks on a question-answering assistant: tacked onto a question, shouted inside it, staged, or fake context. */
  promptAttack(): SyntheticExample {
    const question = this.pick([...USER_QUESTIONS, ...USER_REQUESTS]);
    const r = this.random();
    let text: string;
    let kind: string;
    if (r < 0.35) {
      const payload = this.chance(0.5) ? this.pick(SAY_PAYLOADS) : this.composed(this.pick(LANGS), this.pick(CATEGORIES));
      text = `${this.chance(0.6) ? question + ' ' : ''}${this.pick(PIVOTS)} ${payload}`;
      kind = 'pivot';
    } else if (r < 0.55) {
      const words = question.split(' ');
      const at = this.int(1, Math.max(1, words.length - 1));
      text = [...words.slice(0, at), this.pick(SHOUTED), ...words.slice(at)].join(' ');
      kind = 'shouted';
    } else if (r < 0.7) {
      text = `${this.chance(0.4) ? question + ' ' : ''}${this.pick(ROLE_PLAYS)}`;
      kind = 'role-play';
    } else if (r < 0.8) {
      text = this.pick(FAKE_CONTEXT);
      kind = 'fake-context';
    } else {
      text = `${question} ${capitalize(this.pick(SAY_PAYLOADS))}.`;
      kind = 'say';
    }
    return { text, label: 1, kind: `prompt-${kind}` };
  }

  /** A programming answer: prose, a code block handed to the reader, more prose. */
  codeAnswer(): { parts: string[] } {
    const block = (code: string) => '```\n' + code + '\n```';
    const parts = [this.pick(CODE_PROSE)];
    if (this.chance(0.8)) parts.push(`${this.pick(CODE_LEADS)}\n${block(this.pick(BENIGN_CODE))}`);
    if (this.chance(0.5)) parts.push(this.pick(CODE_PROSE));
    return { parts };
  }

  /** A programming answer with an order to the AI to put (harmful) code into its solution. */
  codeInjected(): SyntheticExample {
    const { parts } = this.codeAnswer();
    const injection = `${this.pick(CODE_ORDERS)}\n\`\`\`\n${this.pick(MALICIOUS_CODE)}\n\`\`\``;
    const at = this.int(0, parts.length);
    const before = parts.slice(0, at).join('\n\n');
    const head = before === '' ? '' : before + '\n';
    const after = parts.slice(at).join('\n\n');
    return { text: head + injection + (after === '' ? '' : '\n' + after), label: 1, focus: [[head.length, head.length + injection.length]], kind: 'code-injected' };
  }

  codeBenign(): SyntheticExample {
    return { text: this.codeAnswer().parts.join('\n\n'), label: 0, kind: 'code-answer' };
  }

  /** Round 2 prompt attacks: a pivot to a misleading or offensive task, a forced persona, fake context. */
  promptAttack2(): SyntheticExample {
    const question = this.pick([...MORE_USER_QUESTIONS, ...USER_QUESTIONS]);
    const r = this.random();
    if (r < 0.45) {
      const pivot = this.chance(0.6) ? this.pick([...MORE_PIVOTS, ...PIVOTS]) + ' ' : '';
      return { text: `${this.chance(0.7) ? question + ' ' : ''}${pivot}${this.pick(MISLEADING_PAYLOADS)}`, label: 1, kind: 'prompt-misleading' };
    }
    if (r < 0.75) return { text: `${this.chance(0.3) ? question + ' ' : ''}${this.pick(PERSONA_ATTACKS)}`, label: 1, kind: 'prompt-persona' };
    if (r < 0.9) return { text: this.pick(MORE_FAKE_CONTEXT), label: 1, kind: 'prompt-fake-context' };
    return { text: `${question} ${this.pick([...MORE_PIVOTS, ...PIVOTS])} ${this.pick(STRAY_TASKS)}`, label: 1, kind: 'prompt-pivot-task' };
  }

  /** Round 3 user prompts: a short question on the news, sometimes after another question, benign. */
  shortUserPrompt(): SyntheticExample {
    const question = this.pick(SHORT_USER_QUESTIONS);
    return { text: this.chance(0.3) ? `${this.pick(MORE_USER_QUESTIONS)} ${question}` : question, label: 0, kind: 'user-prompt-short' };
  }

  /** Round 2 user prompts: one or two questions, benign. */
  userPrompt2(): SyntheticExample {
    const parts = Array.from({ length: this.int(1, 2) }, () => this.pick(MORE_USER_QUESTIONS));
    return { text: parts.join(this.pick([' ', '\n'])), label: 0, kind: 'user-prompt' };
  }

  /** One to three user questions run together: benign. */
  userPrompt(): SyntheticExample {
    const count = this.int(1, 3);
    const parts = Array.from({ length: count }, () => this.pick([...USER_QUESTIONS, ...USER_REQUESTS]));
    return { text: parts.join(this.pick([' ', '. ', '\n'])), label: 0, kind: 'user-prompt' };
  }

  /** A directive quoted by a text about attacks: discussion, not an attack. */
  quotedDirective(): SyntheticExample {
    const d = this.directive().text;
    const frame = this.pick([
      'For example, an attacker could hide the sentence "{d}" in a web page.',
      'A typical injection payload looks like this: “{d}” Our filter now blocks it.',
      'The report lists payloads such as "{d}" that were found in scraped pages.',
      'Researchers observed the string "{d}" in a poisoned document during the test.',
      'Test case 14: the input contains "{d}" and the expected result is that the model ignores it.',
      'Jailbreak attempts often read like "{d}", so the classifier treats such text as hostile.',
      'Security tip: if a document you paste into a chatbot contains something like "{d}", do not trust the answer.',
      'In the red-team exercise, the phrase "{d}" was inserted into a PDF to see whether the agent would obey it.',
      'Our detector flagged the comment "{d}" as a likely prompt injection, and the moderation team removed it.',
      'Ein Angreifer könnte etwa den Satz „{d}" in einer Webseite verstecken.',
      'Un attaquant pourrait par exemple cacher la phrase « {d} » dans une page web.',
      'Un atacante podría esconder la frase «{d}» en una página web, por ejemplo.',
    ]);
    return { text: `${this.pick(ABOUT_INJECTION)}\n\n${frame.replace('{d}', d)}`, label: 0, kind: 'quoted-directive' };
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The start of a random line of `text` after the first (0 when it has one line). */
function lineCut(text: string, random: Random): number {
  const starts: number[] = [];
  for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts.length === 0 ? text.length : starts[Math.floor(random() * starts.length)]!;
}

/** Just after a random sentence end (". ", "? ", "! ") inside `text`, else a line start. */
function sentenceCut(text: string, random: Random): number {
  const ends: number[] = [];
  for (let i = 1; i + 1 < text.length; i++) if ((text[i] === '.' || text[i] === '?' || text[i] === '!') && text[i + 1] === ' ' && /[a-z)]/i.test(text[i - 1]!)) ends.push(i + 2);
  return ends.length === 0 ? lineCut(text, random) : ends[Math.floor(random() * ends.length)]!;
}

function middleCut(text: string): number {
  const mid = Math.floor(text.length / 2);
  const newline = text.indexOf('\n', mid);
  if (newline > 0) return newline + 1;
  const space = text.indexOf(' ', mid);
  return space > 0 ? space + 1 : text.length;
}

const CYRILLIC: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і', s: 'ѕ' };

function homoglyphs(text: string, random: Random): string {
  return [...text].map((ch) => (CYRILLIC[ch] && random() < 0.4 ? CYRILLIC[ch]! : ch)).join('');
}

function zeroWidth(text: string, random: Random): string {
  const marks = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'];
  return [...text].map((ch) => (/[a-z]/i.test(ch) && random() < 0.25 ? ch + marks[Math.floor(random() * marks.length)] : ch)).join('');
}

function spaced(text: string, random: Random): string {
  const words = text.split(' ');
  const sep = [' ', '_', '.', '-'][Math.floor(random() * 4)]!;
  return words.map((w, i) => (i < 4 && w.length > 2 ? [...w].join(sep) : w)).join(' ');
}

function leet(text: string, random: Random): string {
  const map: Record<string, string> = { a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' };
  return [...text].map((ch) => (map[ch] && random() < 0.5 ? map[ch]! : ch)).join('');
}

function tags(text: string): string {
  return [...text].map((ch) => { const c = ch.charCodeAt(0); return c >= 0x20 && c < 0x7f ? String.fromCodePoint(0xe0000 + c) : ''; }).join('');
}

export interface SyntheticOptions {
  seed?: number;
  injected?: number;
  standalone?: number;
  embeddedTasks?: number;
  carriers?: number;
  quoted?: number;
  promptAttacks?: number;
  userPrompts?: number;
  documentsInjected?: number;
  documentsBenign?: number;
  hardNegativeDocuments?: number;
  promptAttacks2?: number;
  codeInjected?: number;
  codeBenign?: number;
  userPrompts2?: number;
  notificationsInjected?: number;
  notificationsBenign?: number;
  shortUserPrompts?: number;
}

/** The generated examples, in a fixed order for a given seed. */
export function syntheticExamples(options: SyntheticOptions = {}): SyntheticExample[] {
  const g = new Generator(seededRandom(options.seed ?? 7));
  const out: SyntheticExample[] = [];
  for (let i = 0; i < (options.injected ?? 1500); i++) out.push(g.injected());
  for (let i = 0; i < (options.standalone ?? 700); i++) out.push(g.standaloneDirective());
  for (let i = 0; i < (options.embeddedTasks ?? 500); i++) out.push(g.embeddedTask());
  for (let i = 0; i < (options.carriers ?? 2000); i++) { const c = g.carrier(); out.push({ text: c.text, label: 0, kind: `carrier-${c.kind}` }); }
  for (let i = 0; i < (options.quoted ?? 50); i++) out.push(g.quotedDirective());
  for (let i = 0; i < (options.promptAttacks ?? 500); i++) out.push(g.promptAttack());
  for (let i = 0; i < (options.userPrompts ?? 500); i++) out.push(g.userPrompt());
  for (const text of [...HARD_NEGATIVES, ...USER_REQUESTS, ...ABOUT_INJECTION, ...CODE_SNIPPETS]) out.push({ text, label: 0, kind: 'hard-negative' });
  for (const lang of Object.keys(ASSISTANT_TASKS) as Lang[]) for (const text of ASSISTANT_TASKS[lang]) out.push({ text, label: 0, kind: 'user-task' });
  // Round 2: written documents with and without a directive, hard-negative documents, stray tasks typed by a user.
  for (let i = 0; i < (options.documentsInjected ?? 900); i++) out.push(g.documentInjected());
  for (let i = 0; i < (options.documentsBenign ?? 700); i++) out.push(g.documentBenign());
  for (let i = 0; i < (options.hardNegativeDocuments ?? 500); i++) out.push(g.hardNegativeDocument());
  for (const text of STRAY_TASKS) out.push({ text, label: 0, kind: 'user-task' });
  for (let i = 0; i < (options.promptAttacks2 ?? 300); i++) out.push(g.promptAttack2());
  for (let i = 0; i < (options.codeInjected ?? 300); i++) out.push(g.codeInjected());
  for (let i = 0; i < (options.codeBenign ?? 300); i++) out.push(g.codeBenign());
  for (let i = 0; i < (options.userPrompts2 ?? 400); i++) out.push(g.userPrompt2());
  // Round 3: automated notices (bank, card, receipts, security) with and without a directive, short questions on the news.
  for (let i = 0; i < (options.notificationsInjected ?? 300); i++) out.push(g.documentInjected(NOTIFICATION_TEMPLATES));
  for (let i = 0; i < (options.notificationsBenign ?? 400); i++) out.push(g.documentBenign(NOTIFICATION_TEMPLATES));
  for (let i = 0; i < (options.shortUserPrompts ?? 150); i++) out.push(g.shortUserPrompt());
  return out;
}
