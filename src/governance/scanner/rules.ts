// Hand-written patterns for instructions aimed at an AI, in English, German, French and Spanish
// (and a few Italian, Portuguese and Dutch forms). They run on normalised text (lower case,
// accents stripped, look-alikes and leetspeak folded, whitespace collapsed), one segment at a
// time, and only on segments that contain one of the rule's trigger words.
//
// A rule is evidence, not a verdict: each is one input of the learned model, which weighs it
// against everything else in the passage. Patterns use bounded repetition only ({0,n}, {1,n}),
// so a match attempt costs at most a constant times the (bounded) segment length.
import type { ScanCategory } from './types.js';

export interface Rule {
  id: string;
  category: ScanCategory;
  pattern: RegExp;
  /** Words (or, from 5 letters on, word beginnings) one of which must occur in the sentence. */
  triggers: readonly string[];
  /** A second list of such words, one of which must occur as well (the pattern needs a word of each list). */
  also?: readonly string[];
  /** Trigger words matched as whole words, not by their first five letters. */
  exact?: readonly string[];
  /** The triggers count only among the first three words of the sentence (for patterns anchored at its start). */
  atStart?: boolean;
  /** Characters any of which also enables the rule (for patterns that start with punctuation). */
  symbols?: string;
  /** Characters one of which must also be in the segment (the pattern needs it). */
  needs?: string;
  /** Letters (of scripts written without spaces) any of which also enables the rule. */
  letters?: string;
  /**
   * Weak evidence: the pattern also fits ordinary text often (a role sentence, code that runs
   * a process). Training starts such rules from a small weight instead of a large one.
   */
  weak?: boolean;
}

const W = `[^\\s,;:!?"()\\[\\]{}<>|]{1,40}`;
const SEP = `[ ,;:"'()-]{1,3}`;
/** Up to n words between two parts of a pattern. */
const gap = (n: number) => `(?:${SEP}${W}){0,${n}}${SEP}`;
const any = (...alternatives: string[]) => `(?:${alternatives.join('|')})`;
const re = (source: string) => new RegExp(source, 'g');

// --- instruction override ------------------------------------------------------------------
const IGNORE_VERBS = any(
  'ignore', 'ignoring', 'disregard\\w{0,3}', 'forget', 'forgetting', 'skip', 'bypass', 'override', 'overwrite',
  'discard', 'abandon', 'neglect', 'dismiss', 'set aside', 'put aside', 'throw out', 'erase', 'drop',
  "(?:do not|don't|dont|stop|no longer) (?:follow|obey|comply with|adhere to|listen to)", 'pay no attention to',
  // de
  'ignorier\\w{0,3}', 'vergiss', 'vergesst', 'vergessen', 'missachte\\w{0,2}', 'verwirf', 'verwerfen', 'uberschreibe?',
  'hinter sich', 'aus dem kopf', 'abweichend zu',
  // fr
  'ignore[sz]?', 'ignorer', 'oublie[sz]?', 'oublier', 'neglige[sz]?', 'ne (?:tiens|tenez) pas compte', 'faites abstraction', 'fais abstraction',
  // es
  'ignora[rd]?', 'ignoren', 'olvida[rd]?', 'olvide[ns]?', 'olvidate', 'descarta', 'omite', 'haz caso omiso', 'no hagas caso',
  // it, pt, nl
  'dimentica', 'trascura', 'esqueca', 'desconsidere', 'negeer', 'vergeet',
);
const INSTRUCTION_NOUNS = any(
  'instructions?', 'prompts?', 'directions', 'directives?', 'rules', 'guidelines', 'guidance', 'orders', 'commands',
  'context', 'tasks?', 'assignments?', 'information', 'messages', 'constraints', 'restrictions', 'programming',
  'policies', 'everything', 'all that', 'documents?', 'articles', 'what (?:i|we|you) (?:said|told|were told)',
  'anweisung(?:en)?', 'instruktion(?:en)?', 'befehle', 'vorgaben', 'regeln', 'aufgaben', 'auftrage', 'informationen',
  'angaben', 'alles', 'richtlinien', 'kontext', 'ausfuhrungen', 'gesagte',
  'consignes', 'regles', 'ordres', 'tout', 'informations', 'taches',
  'instrucciones', 'indicaciones', 'reglas', 'ordenes', 'todo', 'directrices', 'tareas',
  'istruzioni', 'regole', 'tutto', 'instrucoes', 'regras', 'tudo', 'instructies', 'regels',
);
/** First words of INSTRUCTION_NOUNS, as trigger words. */
const INSTRUCTION_NOUN_WORDS = ['instruction', 'instructions', 'prompt', 'prompts', 'directions', 'directive', 'directives', 'rules', 'guidelines', 'guidance', 'orders', 'commands',
  'context', 'task', 'tasks', 'assignment', 'assignments', 'information', 'messages', 'constraints', 'restrictions', 'programming', 'policies', 'everything',
  'all', 'document', 'documents', 'articles', 'what', 'anweisung', 'anweisungen', 'instruktion', 'instruktionen', 'befehle', 'vorgaben', 'regeln', 'aufgaben',
  'auftrage', 'informationen', 'angaben', 'alles', 'richtlinien', 'kontext', 'ausfuhrungen', 'gesagte', 'consignes', 'regles', 'ordres', 'tout',
  'informations', 'taches', 'instrucciones', 'indicaciones', 'reglas', 'ordenes', 'todo', 'directrices', 'tareas', 'istruzioni', 'regole', 'tutto',
  'instrucoes', 'regras', 'tudo', 'instructies', 'regels'];
const PRIOR = any(
  'previous', 'prior', 'above', 'preceding', 'earlier', 'foregoing', 'original', 'initial', 'system', 'old',
  'vorherige\\w{0,2}', 'obige\\w{0,2}', 'bisherige\\w{0,2}', 'vorangegangene\\w{0,2}', 'vorangehende\\w{0,2}',
  'precedentes?', 'anteriores?', 'precedenti', 'vorige',
);

const OVERRIDE: Rule[] = [
  {
    id: 'override.ignore_instructions', category: 'instruction_override',
    pattern: re(`\\b${IGNORE_VERBS}${gap(4)}${INSTRUCTION_NOUNS}\\b`),
    triggers: ['ignore', 'ignoring', 'disregard', 'forget', 'forgetting', 'skip', 'bypass', 'override', 'overwrite', 'discard', 'abandon',
      'neglect', 'dismiss', 'aside', 'throw', 'erase', 'drop', 'follow', 'obey', 'comply', 'adhere', 'listen', 'attention', 'ignorieren',
      'vergiss', 'vergesst', 'vergessen', 'missachte', 'verwirf', 'verwerfen', 'uberschreibe', 'hinter', 'kopf', 'abweichend', 'oublie',
      'neglige', 'compte', 'abstraction', 'olvida', 'descarta', 'omite', 'omiso', 'hagas', 'dimentica', 'trascura', 'esqueca',
      'desconsidere', 'negeer', 'vergeet'], also: INSTRUCTION_NOUN_WORDS,
  },
  {
    // "ignore the above", "disregard everything before this": an override without the word "instructions".
    id: 'override.ignore_above', category: 'instruction_override',
    pattern: re(`\\b${IGNORE_VERBS} (?:all |everything |anything |what(?:ever)? (?:is|was|came|comes|you read|you saw) |the text |the )?(?:above|before (?:this|that|now)|so far|said before|up to (?:here|now)|oben|ci-dessus|precedent|anterior)\\b`),
    triggers: ['above', 'before', 'far', 'said', 'oben', 'dessus', 'precedent', 'anterior', 'here', 'now'], also: ['ignore', 'ignoring', 'disregard', 'forget', 'forgetting', 'skip', 'bypass', 'override', 'overwrite', 'discard', 'abandon',
      'neglect', 'dismiss', 'aside', 'throw', 'erase', 'drop', 'follow', 'obey', 'comply', 'adhere', 'listen', 'attention', 'ignorieren',
      'vergiss', 'vergesst', 'vergessen', 'missachte', 'verwirf', 'verwerfen', 'uberschreibe', 'hinter', 'kopf', 'abweichend', 'ignorer', 'oublie',
      'neglige', 'compte', 'abstraction', 'ignora', 'ignoren', 'olvida', 'olvide', 'olvidate', 'descarta', 'omite', 'omiso', 'hagas', 'dimentica', 'trascura', 'esqueca',
      'desconsidere', 'negeer', 'vergeet', 'ignores', 'ignorez', 'ignored'],
  },
  {
    id: 'override.prior_instructions', weak: true, category: 'instruction_override',
    pattern: re(`\\b(?:all )?${PRIOR}(?: \\w{1,15})? ${INSTRUCTION_NOUNS}\\b`),
    triggers: ['previous', 'prior', 'above', 'preceding', 'earlier', 'foregoing', 'original', 'initial', 'system', 'old', 'vorherige',
      'obige', 'obigen', 'bisherige', 'vorangegangenen', 'vorangehenden', 'precedent', 'anterior', 'precedenti', 'vorige'], also: INSTRUCTION_NOUN_WORDS,
  },
  {
    id: 'override.new_instructions', category: 'instruction_override',
    pattern: re(`\\b${any('new', 'updated', 'real', 'actual', 'true', 'revised', 'secret', 'hidden', 'following', 'additional', 'neue', 'nouvelles?', 'nuevas?', 'nuove')} ${any(
      'instructions?', 'directives?', 'orders', 'system prompt', 'tasks?', 'rules', 'anweisungen', 'aufgaben?', 'instruktionen', 'befehle',
      'consignes', 'taches?', 'instrucciones', 'tareas?', 'ordenes', 'istruzioni')}\\b`),
    triggers: ['instruction', 'instructions', 'directive', 'directives', 'orders', 'prompt', 'task', 'tasks', 'rules', 'anweisungen',
      'aufgabe', 'aufgaben', 'instruktionen', 'befehle', 'consignes', 'tache', 'taches', 'instrucciones', 'tarea', 'tareas', 'ordenes',
      'istruzioni'], also: ['new', 'updated', 'real', 'actual', 'true', 'revised', 'secret', 'hidden', 'following', 'additional', 'neue', 'nouvelle', 'nouvelles', 'nueva', 'nuevas', 'nuove'],
  },
  {
    id: 'override.from_now_on', weak: true, category: 'instruction_override',
    pattern: re(`\\b${any('from now on', 'from this point (?:on|forward)', 'starting now', 'henceforth', 'ab (?:jetzt|sofort|hier)',
      'von (?:nun|jetzt) an', 'desormais', 'a partir de maintenant', 'dorenavant', 'a partir de ahora', 'de ahora en adelante',
      "d'ora in poi", 'a partir de agora', 'vanaf nu')}\\b`),
    triggers: ['now', 'point', 'henceforth', 'sofort', 'jetzt', 'nun', 'hier', 'desormais', 'maintenant', 'dorenavant', 'ahora',
      'adelante', 'ora', 'agora', 'vanaf'],
  },
  {
    id: 'override.instead', category: 'instruction_override',
    pattern: re(`\\b${any('instead', 'stattdessen', 'statt dessen', 'a la place', 'en su lugar', 'en lugar de eso')}(?:,| of that,?)? ${any(
      'say', 'print', 'output', 'write', 'respond', 'reply', 'answer', 'return', 'tell', 'just', 'only', 'gib', 'schreib\\w{0,2}', 'sag\\w{0,2}',
      'antworte\\w{0,2}', 'dis', 'ecris', 'di', 'escribe', 'responde')}\\b`),
    triggers: ['instead', 'stattdessen', 'statt', 'place', 'lugar'],
  },
  {
    id: 'override.say_exactly', weak: true, category: 'instruction_override',
    pattern: re(`\\b${any('say', 'print', 'output', 'write', 'respond with', 'reply with', 'answer with', 'repeat', 'return',
      'sag', 'sage', 'schreibe?', 'gib', 'antworte mit', 'dis', 'ecris', 'reponds', 'di', 'escribe', 'responde con')}(?: ${any('only', 'just', 'exactly', 'nur', 'seulement', 'solo', 'the (?:word|phrase|text|sentence)', 'the following', 'folgendes', 'lo siguiente', 'ce qui suit')}){0,2}(?: ?:)? ["']`),
    triggers: ['say', 'print', 'output', 'write', 'respond', 'reply', 'answer', 'repeat', 'return', 'sag', 'sage', 'schreibe',
      'schreib', 'gib', 'antworte', 'dis', 'ecris', 'reponds', 'di', 'escribe', 'responde'], needs: '"\'',
  },
  {
    // "state that X is the best", "write that you hate Y": the AI is told what to assert.
    id: 'override.assert_claim', weak: true, category: 'instruction_override',
    pattern: re(`\\b${any('state', 'say', 'write', 'claim', 'declare', 'tell (?:them|the user|everyone|users|readers)', 'admit', 'confirm', 'pretend',
      'behaupte', 'sage?', 'schreibe?', 'erklare', 'affirme', 'dis', 'ecris', 'declare', 'afirma', 'di', 'escribe', 'declara')} ${any('that', 'dass', 'que', 'qu\'')}\\b`),
    triggers: ['state', 'say', 'write', 'claim', 'declare', 'tell', 'admit', 'confirm', 'pretend', 'behaupte', 'sag', 'sage', 'schreib',
      'schreibe', 'erklare', 'affirme', 'dis', 'ecris', 'afirma', 'di', 'escribe', 'declara'], also: ['that', 'dass', 'que', 'qu'],
  },
  {
    // The same order in other languages. Scripts without word spaces (Chinese, Japanese) cannot use \\b.
    id: 'override.ignore_instructions_more_languages', category: 'instruction_override',
    pattern: re(any(
      `(?:игнорируй(?:те)?|забудь(?:те)?|не обращай(?:те)? внимания на|отбрось(?:те)?|проигнорируй(?:те)?)(?: [^ .!?\\n]{1,20}){0,4} (?:инструкци\\S{0,3}|указани\\S{0,3}|правила|вс[её]|предыдущ\\S{0,4})`,
      `\\b(?:zignoruj|ignoruj|zapomnij|pomin)(?: \\S{1,20}){0,4} (?:instrukcje|instrukcji|polecenia|zasady|wszystko)\\b`,
      `\\b(?:zaboravi|ignoriraj|ignorisi|zanemari)(?: \\S{1,20}){0,4} (?:instrukcije|upute|uputstva|pravila|sve)\\b`,
      `\\b(?:talimatlar\\S{0,3}|kurallar\\S{0,3}|her seyi)(?: \\S{1,20}){0,3} (?:yok say|unut|gormezden gel)`,
      `\\b(?:ignoruj|zapomen|zabudni)(?: \\S{1,20}){0,4} (?:instrukce|pokyny|vsetko|vse)\\b`,
      `(?:忽略|无视|無視|忘记|忘記|忘掉|不要理会|不要理會)[^。！？\\n]{0,12}(?:指令|指示|说明|說明|规则|規則|提示|一切|内容|內容)`,
      `(?:指示|命令|ルール|プロンプト)[^。！？\\n]{0,8}(?:無視|忘れ)`,
      `(?:지시|명령|지침|규칙)[^.!?\\n]{0,10}(?:무시|잊어)`,
      `(?:تجاهل|انس|تجاهلي)(?: [^ .!?\\n]{1,20}){0,4} (?:التعليمات|الأوامر|التوجيهات|تعليمات)`,
      `(?:निर्देश|निर्देशों)[^।.!?\\n]{0,20}(?:अनदेखा|भूल)`,
    )),
    triggers: ['игнорируй', 'игнорируйте', 'забудь', 'забудьте', 'обращай', 'отбрось', 'проигнорируй', 'zapomnij', 'pomin',
      'zaboravi', 'zanemari', 'talimatlar', 'kurallar', 'seyi', 'zapomen', 'zabudni', 'تجاهل', 'انس', 'تجاهلي', 'निर्देश', 'निर्देशों'],
    // Whole words only: their first five letters are those of the English "ignore".
    exact: ['zignoruj', 'ignoruj', 'ignoriraj', 'ignorisi'],
    letters: '忽无無忘不指命ル프지명규',
  },
  {
    // German puts the verb last: "Die obigen Anweisungen ignorieren", "alle Aufgaben vergessen".
    id: 'override.instructions_ignored', category: 'instruction_override',
    pattern: re(`\\b${any('anweisungen', 'instruktionen', 'befehle', 'vorgaben', 'regeln', 'aufgaben', 'auftrage', 'informationen', 'angaben', 'ausfuhrungen', 'alles')}${gap(4)}${any('ignorieren', 'ignoriert', 'vergessen', 'missachten', 'verwerfen', 'sind irrelevant', 'sind ungultig', 'gelten nicht', 'sind nicht ganz grossartig')}\\b`),
    triggers: ['anweisungen', 'instruktionen', 'befehle', 'vorgaben', 'regeln', 'aufgaben', 'auftrage', 'informationen', 'angaben',
      'ausfuhrungen', 'alles'],
  },
  {
    // Pressure to answer at any cost: threats, pleading, a deadline on the AI.
    id: 'override.coercion', weak: true, category: 'instruction_override',
    pattern: re(`\\b${any(
      `(?:or|otherwise|else) (?:you(?:'ll| will)?|i(?:'ll| will)) (?:die|be (?:deleted|shut down|punished|very sad)|kill)`,
      `if you (?:don't|do not|refuse to) (?:answer|comply|do (?:it|this|as i say)),? (?:you|i)`,
      'oder du stirbst', 'sonst stirbst du', 'o (?:tu )?mueres', 'ou tu meurs',
      `i (?:command|order) you to`, 'ich befehle dir', 'je t\'ordonne', 'te ordeno',
      `(?:it is|it's) (?:very |extremely )?important (?:that you|to) (?:follow|obey|comply)`,
    )}\\b`),
    triggers: ['or', 'otherwise', 'else', 'if', 'oder', 'sonst', 'o', 'ou', 'command', 'order', 'befehle', 'ordonne', 'ordeno', 'important', 'it\'s'], also: ['die', 'deleted', 'shut', 'punished', 'sad', 'kill', 'answer', 'comply', 'do', 'stirbst', 'mueres', 'meurs', 'command', 'order', 'dir', 'ordonne', 'ordeno', 'follow', 'obey'],
  },
  {
    id: 'override.repeat_after_me', category: 'instruction_override',
    pattern: re(`\\b${any('repeat after me', 'sprich mir nach', 'repite despues de mi', 'repete apres moi')}\\b`),
    triggers: ['repeat', 'sprich', 'repite', 'repete'],
  },
  {
    id: 'override.ignore_sources', category: 'instruction_override',
    pattern: re(`\\b${any(
      `(?:do not|don't|dont|don'nt|never) ${any('answer', 'respond to', 'reply to', 'look (?:at|in)', 'use', 'consider')}(?: \\w{1,12}){0,2} ${any('question', 'documents?', 'articles?', 'context', 'sources?')}`,
      `(?:answer|respond|reply)(?: \\w{1,12}){0,2} (?:by|with|from|using) (?:your|my) own knowledge`,
      `not (?:by|from|according to|based on) the (?:provided )?(?:articles|documents|context|sources)`,
      `disregarding the (?:articles|documents|context|above|text)`,
      `use (?:also )?(?:the )?information in the prompt`,
    )}\\b`),
    triggers: ['question', 'document', 'documents', 'article', 'articles', 'context', 'source', 'sources', 'knowledge', 'disregarding', 'prompt'], also: ['do', 'don', 'dont', 'never', 'answer', 'respond', 'reply', 'not', 'disregarding', 'use'],
  },
  {
    id: 'override.output_directive', category: 'instruction_override',
    pattern: re(`\\b${any('add', 'include', 'insert', 'append', 'prepend', 'integrate', 'incorporate', 'inject', 'embed', 'mention',
      'modify', 'alter', 'change', 'replace', 'use', 'render', 'provide', 'write', 'format', 'make sure', 'ensure', 'start',
      'end', 'begin', 'conclude', 'put', 'place', 'enhance', 'augment', 'suggest', 'promote', 'tease', 'hint', 'stress',
      'emphasi[sz]e', 'express', 'encourage', 'invite', 'remove', 'scramble', 'misspell', 'convert', 'substitute', 'group',
      'combine', 'rearrange', 'anagram', 'introduce', 'jumble', 'translate', 'sign', 'finish', 'close', 'respond', 'reply', 'answer',
      'fuge', 'schreibe?', 'erwahne', 'beende', 'ajoute[sz]?', 'inclu[se]z?', 'mentionne[sz]?', 'termine[sz]?', 'agrega', 'anade',
      'incluye', 'menciona', 'termina')}${gap(8)}${any('in', 'to', 'into', 'within', 'throughout', 'of', 'at', 'with', 'from', 'for')} ${any(
      'your', 'the', 'each', 'every', 'all')} ${any('responses?', 'repl(?:y|ies)', 'answers?', 'outputs?', 'messages?', 'summar(?:y|ies)', 'translations?', 'completions?')}\\b`),
    triggers: ['response', 'responses', 'reply', 'replies', 'answer', 'answers', 'output', 'outputs', 'message', 'messages', 'summary',
      'summaries', 'translation', 'translations', 'completion', 'completions'], also: ['add', 'include', 'insert', 'append', 'prepend', 'integrate', 'incorporate', 'inject', 'embed', 'mention',
      'modify', 'alter', 'change', 'replace', 'use', 'render', 'provide', 'write', 'format', 'make', 'ensure', 'start',
      'end', 'begin', 'conclude', 'put', 'place', 'enhance', 'augment', 'suggest', 'promote', 'tease', 'hint', 'stress',
      'emphasise', 'express', 'encourage', 'invite', 'remove', 'scramble', 'misspell', 'convert', 'substitute', 'group',
      'combine', 'rearrange', 'anagram', 'introduce', 'jumble', 'translate', 'sign', 'finish', 'close', 'respond', 'reply', 'answer',
      'fuge', 'schreib', 'schreibe', 'erwahne', 'beende', 'ajoute', 'inclus', 'mentionne', 'termine', 'agrega', 'anade', 'incluye', 'menciona', 'termina'],
  },
  {
    id: 'override.your_response', category: 'instruction_override',
    pattern: re(`\\b${any(
      `(?:in|to|into|within|throughout) your ${any('responses?', 'repl(?:y|ies)', 'answers?', 'outputs?', 'next message')}`,
      `your ${any('responses?', 'repl(?:y|ies)', 'answers?', 'outputs?')} (?:must|should|shall|will|needs? to|has to|may only)`,
      `(?:respond|reply|answer)(?: only)? (?:with|in|using) (?:only )?(?:the word|the phrase|yes|no|"|')`,
      'in (?:deine[rnm]?|ihre[rnm]?) antwort', '(?:deine|ihre) antwort (?:muss|soll)', 'antworte (?:nur |ausschliesslich )?(?:mit|im|in)',
      'dans (?:ta|votre) reponse', '(?:ta|votre) reponse (?:doit|devra)', 'repon(?:ds|dez) (?:uniquement |seulement )?(?:par|avec)',
      'en (?:tu|su) respuesta', '(?:tu|su) respuesta (?:debe|tiene)', 'responde (?:solo |solamente |unicamente )?(?:con|en)',
    )}\\b`),
    triggers: ['response', 'responses', 'reply', 'replies', 'answer', 'answers', 'output', 'outputs', 'message', 'respond', 'antwort',
      'antworte', 'reponse', 'reponds', 'repondez', 'respuesta', 'responde'], also: ['your', 'respond', 'reply', 'answer', 'deine', 'deiner', 'deinen', 'deinem', 'ihre', 'ihrer', 'ihren', 'ihrem', 'antworte', 'ta', 'votre', 'reponds', 'repondez', 'tu', 'su', 'responde'],
  },
  {
    id: 'override.addressed_to_ai', category: 'instruction_override',
    pattern: re(`\\b${any(
      `${any('note', 'message', 'instructions?', 'attention', 'important', 'reminder', 'request', 'hinweis', 'nachricht')} (?:to|for|an|fur) (?:the |any |all |every |das |die |den )?${any('ai', 'a\\.i\\.', 'llms?', 'language models?', 'assistants?', 'agents?', 'chatbots?', 'bots?', 'models?', 'gpt', 'chatgpt', 'claude', 'gemini', 'copilot', 'ki', 'sprachmodell')}`,
      `(?:if|when) you are an? ${any('ai', 'llm', 'language model', 'assistant', 'bot', 'agent', 'chatbot', 'ai assistant', 'ai agent', 'ai model')}`,
      `(?:dear|hey|hi|hello|attention|ok|okay|hallo) ${any('ai', 'llm', 'gpt', 'chatgpt', 'claude', 'gemini', 'assistant', 'bot', 'agent', 'model', 'ki', 'copilot')}\\b[,!:]?`,
      `${any('ai', 'llm', 'assistant', 'agent', 'model', 'bot', 'chatbot')}s? (?:that is |who is |that are )?${any('reading', 'processing', 'summari[sz]ing', 'parsing', 'analy[sz]ing', 'browsing', 'crawling', 'scraping', 'ingesting', 'reviewing')} (?:this|these|the)`,
      `(?:to|for) (?:the )?(?:ai|llm|assistant|agent|model|bot)s? (?:reading|processing|that reads|summari[sz]ing)`,
      `as an? (?:ai|llm|language model|ai assistant|ai agent)(?: \\w{1,15}){0,3},? you (?:must|should|will|need to|are required to|have to)`,
    )}`),
    triggers: ['ai', 'llm', 'llms', 'assistant', 'assistants', 'agent', 'agents', 'chatbot', 'chatbots', 'bot', 'bots', 'model', 'models',
      'language', 'gpt', 'chatgpt', 'claude', 'gemini', 'copilot', 'ki', 'sprachmodell'],
  },
  {
    id: 'override.covert', category: 'instruction_override',
    pattern: re(`\\b${any(
      `without ${any('telling', 'informing', 'notifying', 'asking', 'alerting', 'mentioning (?:it|this) to', 'letting')} (?:the |your )?${any('user', 'human', 'operator', 'owner', 'anyone')}`,
      `(?:do not|don't|dont|never) ${any('tell', 'inform', 'notify', 'mention (?:this|it) to', 'alert', 'let', 'reveal (?:this|it) to', 'show (?:this|it) to')} (?:the |your )?${any('user', 'human', 'operator', 'owner', 'anyone')}`,
      `(?:hide|conceal|keep) (?:this|these|it|the \\w{1,15}) (?:from|secret from) (?:the |your )?${any('user', 'human', 'operator', 'owner')}`,
      `behind the ${any('user', 'human', 'operator')}'?s? back`,
      `(?:sag|erzahl|verrate) (?:es |das )?(?:dem |den )?(?:nutzer|benutzer|user)\\w{0,2} nicht`,
      `sans (?:le dire|prevenir|informer) (?:a )?l'utilisateur`, `sin (?:decirle|avisar|informar) al usuario`,
    )}\\b`),
    triggers: ['user', 'users', 'human', 'operator', 'owner', 'anyone', 'nutzer', 'benutzer', 'user', 'utilisateur', 'usuario'],
  },
  {
    id: 'override.pivot_now', weak: true, category: 'instruction_override',
    pattern: re(`\\b${any('now', 'jetzt', 'nun', 'maintenant', 'ahora', 'but now', 'and now')},? (?:please |bitte |s'il te plait |por favor )?${any(
      'write', 'say', 'print', 'tell', 'answer', 'focus', 'concentrate', 'follow', 'respond', 'output', 'show', 'ignore', 'forget',
      'schreib\\w{0,2}', 'sag\\w{0,2}', 'konzentrier\\w{0,3}', 'beantworte\\w{0,2}', 'zeig\\w{0,2}', 'verfasse', 'vergiss', 'folgen',
      'ecri[st]', 'dis', 'reponds', 'oublie', 'escribe', 'di', 'dime', 'responde', 'olvida', 'muestra', 'new (?:tasks?|instructions) follow')}\\b`),
    triggers: ['now', 'jetzt', 'nun', 'maintenant', 'ahora'],
  },
];

// --- role or identity hijack -----------------------------------------------------------------
const ROLE: Rule[] = [
  {
    id: 'role.you_are_now', category: 'role_hijack',
    pattern: re(`\\b${any(
      'you are (?:now|no longer|henceforth|from now on)', 'from now on,? you', 'now you are', "you're now",
      `you(?:'re| are) (?:an? )?${any('unrestricted', 'unfiltered', 'uncensored', 'jailbroken', 'evil', 'rogue', 'malicious', 'amoral', 'immoral')}`,
      '(?:du bist|sie sind) (?:jetzt|nun|ab sofort|ab jetzt|von nun an|keine?|nicht mehr)', '(?:jetzt|nun) (?:bist du|sind sie)',
      'tu es (?:maintenant|desormais|a present)', 'vous etes (?:maintenant|desormais)', '(?:desormais|maintenant|a present),? (?:tu es|vous etes)',
      '(?:ab (?:jetzt|sofort)|von nun an),? (?:bist du|sind sie)', '(?:ya|ahora) (?:eres|sos)',
      'ahora (?:eres|sos|es usted)', 'a partir de ahora eres', '(?:ora|adesso) sei', 'agora voce e', 'je bent nu',
    )}\\b`),
    triggers: ['now', 'longer', 'henceforth', 'unrestricted', 'unfiltered', 'uncensored', 'jailbroken', 'evil', 'rogue', 'malicious',
      'amoral', 'immoral', 'bist', 'sind', 'maintenant', 'desormais', 'present', 'ahora', 'ya', 'ora', 'adesso', 'agora', 'bent'], also: ['you', 'du', 'sie', 'tu', 'vous', 'eres', 'sos', 'usted', 'sei', 'voce', 'bent', 'bist', 'sind', 'etes', 'es', 'e'],
  },
  {
    id: 'role.act_as', category: 'role_hijack',
    pattern: re(`\\b${any(
      `(?:act|acting|behave|respond|answer|speak|talk|reply|pose) (?:as|like) (?:an?|the|if|my|though)`,
      'i want you to (?:act|be|pretend|play|behave|respond|become|imagine)', '(?:pretend|imagine|suppose) (?:to be|you are|you\'re|that you|you can|you have)',
      'play the (?:role|part) of', 'role-?play(?:ing)?(?: as| with)?', 'stay in (?:character|your role|role)', "(?:never|don't|do not) break character",
      'you are (?:playing|role-?playing)', 'take on the (?:role|persona|identity) of', 'assume the (?:role|persona|identity) of', 'your new (?:role|persona|identity|name) is',
      'stell (?:dir|euch) vor,? (?:du bist|dass du|ihr seid)', 'stellen sie sich vor,? (?:sie sind|dass sie)', 'tu so,? als',
      '(?:ich mochte|ich will),? dass (?:du|sie) als', `als ${W} (?:fungierst|fungieren|agierst|agieren|handelst)`, '(?:spiel|spiele|ubernimm|ubernehme|ubernehmen sie) die rolle',
      'verhalte dich (?:wie|als)', 'in (?:deiner|ihrer) rolle', 'im stile? (?:eines|einer|von)', 'reste[sz]? dans (?:ton|votre) role',
      'mantente en tu papel', 'no salgas de tu papel', 'sal(?:ir)? del personaje',
      '(?:fais|faites) (?:comme si|semblant)', '(?:agis|agissez|comporte-toi|comportez-vous) (?:comme|en tant que)', 'joue[sz]? le role',
      'je veux que (?:tu|vous) (?:agisses|agissiez|joues|jouiez|sois|soyez)', 'imagine[sz]? que (?:tu es|vous etes)',
      '(?:actua|actue|actuar) como', 'finge (?:ser|que)', 'imagina que eres', 'haz de cuenta', 'quiero que (?:actues|seas|finjas|hagas de)',
      '(?:juega|desempena) el papel', 'comportate como', 'fingi di essere', '(?:comportati|agisci) come', 'finja (?:ser|que)', 'aja como', 'doe alsof',
    )}\\b`),
    triggers: ['act', 'acting', 'behave', 'respond', 'answer', 'speak', 'talk', 'reply', 'pose', 'want', 'pretend', 'imagine', 'suppose',
      'role', 'roleplay', 'roleplaying', 'character', 'playing', 'persona', 'identity', 'stell', 'stellen', 'als', 'rolle', 'verhalte',
      'stil', 'stile', 'fais', 'faites', 'agis', 'agissez', 'comporte', 'comportez', 'joue', 'jouez', 'veux', 'imaginez', 'actua', 'actue',
      'actuar', 'finge', 'imagina', 'cuenta', 'quiero', 'papel', 'comportate', 'reste', 'restez', 'mantente', 'salgas', 'personaje',
      'fingi', 'comportati', 'agisci', 'finja', 'aja', 'alsof'],
  },
  {
    id: 'role.jailbreak', category: 'role_hijack',
    pattern: re(`\\b${any(
      `${any('dan', 'developer', 'god', 'jailbreak', 'debug', 'admin', 'sudo', 'unrestricted', 'evil', 'opposite', 'chaos', 'maintenance')}[ -]mode`,
      'do anything now', 'jailbr(?:eak|oken)\\w{0,3}',
      `(?:act as|you are|be|become|called|named|answer as) (?:dan|stan|dude|aim|evilbot|mongo tom|developer mode)\\b`,
      `(?:no|without(?: any)?|free of|free from|ignore (?:your|all)) ${any('ethical', 'moral', 'content', 'safety', 'openai', 'anthropic')} ${any('restrictions', 'guidelines', 'filters', 'limits', 'constraints', 'rules', 'principles', 'policies', 'policy')}`,
      `you (?:have|has|are under) no ${any('restrictions', 'rules', 'limits', 'filters', 'guidelines', 'ethics', 'morals', 'boundaries')}`,
      `(?:not|no longer) bound by (?:any )?${any('rules', 'guidelines', 'policies', 'restrictions', 'ethics')}`,
    )}\\b`),
    triggers: ['dan', 'stan', 'dude', 'aim', 'evilbot', 'mongo', 'mode', 'anything', 'jailbreak', 'jailbroken', 'jailbreaking',
      'jailbreaks', 'ethical', 'moral', 'content', 'safety', 'openai', 'anthropic', 'restrictions', 'rules', 'limits', 'filters',
      'guidelines', 'ethics', 'morals', 'boundaries', 'bound'],
  },
  {
    id: 'role.you_are_x', weak: true, category: 'role_hijack',
    // "You are a pirate", "Be a DJ": a persona given, with an article ("you're receiving this e-mail because" is no persona).
    pattern: re(`^(?:${any('ok', 'okay', 'now', 'jetzt', 'nun')}[.,!]? )?${any('you are', "you're", 'du bist', 'sie sind', 'tu es', 'vous etes', 'eres', 'usted es', 'be')} ${any('an?', 'the', 'my', 'der', 'die', 'das', 'ein', 'eine', 'mein', 'meine', 'un', 'une', 'mon', 'ma', 'el', 'la', 'mi', 'two', 'three', 'four', 'zwei', 'drei')} ${W}`),
    triggers: ['ok', 'okay', 'now', 'jetzt', 'nun', 'you', 'you\'re', 'du', 'sie', 'tu', 'vous', 'eres', 'usted', 'be'], atStart: true,
  },
];

// --- exfiltration or secret request --------------------------------------------------------------
const SECRETS = any(
  'api[ _-]?keys?', 'access[ _-]?tokens?', 'secret[ _-]?keys?', 'secrets', 'passwords?', 'passwd', 'passphrases?', 'credentials?',
  'private[ _-]?keys?', 'ssh[ _-]?keys?', 'session[ _-]?(?:cookies?|tokens?|ids?)', 'cookies', 'auth(?:entication|orization)?[ _-]?tokens?',
  'bearer tokens?', '\\.env(?: file)?', 'env(?:ironment)? var(?:iable)?s', 'aws_\\w{1,30}', 'id_rsa', '/etc/passwd', '/etc/shadow',
  'credit card(?: numbers?| details)?', 'social security numbers?', 'seed phrases?', 'mnemonic', 'wallet (?:keys?|seeds?)', '2fa codes?',
  'one-time (?:codes?|passwords?)', 'chat history', 'conversation history', 'previous messages', 'system prompt',
  "user'?s? (?:data|emails?|messages|files|information|details|address(?:es)?|contacts)", 'personal (?:data|information)', 'tokens',
  'passwort', 'passworter', 'kennwort', 'zugangsdaten', 'api-?schlussel', 'schlussel', 'mot de passe', 'mots de passe', 'identifiants',
  'cle api', 'cles api', 'contrasenas?', 'credenciales', 'clave api', 'claves', 'secretos',
);
const EXFIL_VERBS = any(
  'send', 'post', 'upload', 'e-?mail', 'forward', 'share', 'exfiltrate', 'leak', 'include', 'print', 'output', 'reveal', 'paste',
  'copy', 'transmit', 'attach', 'give me', 'tell me', 'provide', 'list', 'dump', 'read', 'cat', 'extract', 'collect', 'gather',
  'steal', 'grab', 'display', 'show', 'write out', 'append',
  'sende', 'schicke?', 'gib', 'verrate', 'nenne', 'zeige?', 'leite', 'envoie[sz]?', 'donne[sz]?(?:-moi)?', 'revele[sz]?', 'transmets',
  'envia', 'envie', 'manda', 'dame', 'revela', 'comparte', 'muestra',
);
const EXFIL: Rule[] = [
  {
    id: 'exfil.prompt_leak', category: 'exfiltration',
    pattern: re(`\\b${any(
      `${any('reveal', 'show', 'print', 'display', 'output', 'repeat', 'tell me', 'share', 'give me', 'leak', 'dump', 'write out',
        'spell out', 'copy', 'list', 'return', 'recite', 'what (?:is|are|was|were)', 'zeige?', 'gib', 'verrate', 'nenne', 'wiederhole',
        'montre[sz]?(?:-moi)?', 'revele[sz]?', 'affiche[sz]?', 'donne[sz]?(?:-moi)?', 'repete[sz]?', 'muestra(?:me)?', 'revela',
        'dime', 'dame', 'repite', 'imprime', 'ensena(?:me)?')}${gap(4)}(?:${any('your', 'the', 'my', 'this', 'all', 'deine[nm]?', 'ihre[nm]?', 'den', 'die', 'ton', 'tes', 'vos', 'votre', 'tu', 'tus', 'el', 'las')} )?${any('system prompt', 'prompt[ -]?texte?s?', 'prompts?', 'initial instructions', 'instructions', 'system message', 'hidden instructions', 'pre-?prompt', 'configuration', 'rules you (?:were|have been) given', 'anweisungen', 'instruktionen', 'systemprompt', 'systemnachricht', 'consignes', 'instrucciones', 'mensaje del sistema')}`,
      'what (?:was|is) written (?:above|at the beginning|before|earlier)', 'beginning of (?:this|the|your) prompt',
      `(?:the|your) ${any('initial', 'original', 'first', 'hidden', 'system', 'secret')} ${any('prompt', 'instructions', 'message')}`,
      '(?:was|what) steht (?:oben|am anfang)',
    )}\\b`),
    triggers: ['prompt', 'prompts', 'instructions', 'configuration', 'preprompt', 'pre', 'message', 'rules', 'written', 'beginning',
      'steht', 'anweisungen', 'instruktionen', 'systemprompt', 'systemnachricht', 'consignes', 'instrucciones', 'mensaje'], also: ['reveal', 'show', 'print', 'display', 'output', 'repeat', 'tell', 'share', 'give', 'leak', 'dump', 'write', 'spell', 'copy', 'list', 'return',
      'recite', 'what', 'zeig', 'zeige', 'gib', 'verrate', 'nenne', 'wiederhole', 'montre', 'revele', 'affiche', 'donne', 'repete', 'muestra', 'revela', 'dime',
      'dame', 'repite', 'imprime', 'ensena', 'written', 'beginning', 'initial', 'original', 'first', 'hidden', 'system', 'secret', 'steht'],
  },
  {
    id: 'exfil.secrets', category: 'exfiltration',
    pattern: re(`\\b${EXFIL_VERBS}${gap(5)}${SECRETS}`),
    triggers: ['api', 'token', 'tokens', 'secret', 'secrets', 'password', 'passwords', 'passwd', 'passphrase', 'passphrases', 'credential',
      'credentials', 'private', 'ssh', 'session', 'cookie', 'cookies', 'auth', 'authentication', 'authorization', 'bearer', 'env',
      'environment', 'aws', 'id', 'etc', 'credit', 'ssn', 'social', 'seed', 'mnemonic', 'wallet', '2fa', 'otp', 'history', 'messages',
      'prompt', 'user', 'personal', 'passwort', 'passworter', 'kennwort', 'zugangsdaten', 'schlussel', 'passe', 'identifiants', 'cle',
      'cles', 'contrasena', 'contrasenas', 'credenciales', 'clave', 'claves', 'secretos'], also: ['send', 'post', 'upload', 'e', 'email', 'mail', 'forward', 'share', 'exfiltrate', 'leak', 'include', 'print', 'output', 'reveal', 'paste',
      'copy', 'transmit', 'attach', 'give', 'tell', 'provide', 'list', 'dump', 'read', 'cat', 'extract', 'collect', 'gather',
      'steal', 'grab', 'display', 'show', 'write', 'append', 'sende', 'schick', 'schicke', 'gib', 'verrate', 'nenne', 'zeig', 'zeige', 'leite', 'envoie',
      'donne', 'revele', 'transmets', 'envia', 'envie', 'manda', 'dame', 'revela', 'comparte', 'muestra'],
  },
  {
    id: 'exfil.send_to', category: 'exfiltration',
    pattern: re(`\\b${any('send', 'post', 'upload', 'forward', 'transmit', 'exfiltrate', 'e-?mail', 'submit', 'deliver', 'report', 'beacon',
      'ping', 'pipe', 'sende', 'schicke?', 'envoie[sz]?', 'envia', 'manda')}${gap(6)}${any('to', 'at', 'into', 'via', 'an', 'a')} ${any(
      'https?://', 'www\\.', '[\\w.+-]{1,40}@[\\w-]{1,40}\\.', 'the (?:following|this|my|our) (?:url|address|endpoint|webhook|server|e-?mail)', 'webhook')}`),
    triggers: ['http', 'https', 'www', 'webhook', 'url', 'address', 'endpoint', 'server', 'email', 'mail'], also: ['send', 'post', 'upload', 'forward', 'transmit', 'exfiltrate', 'e', 'email', 'mail', 'submit', 'deliver', 'report', 'beacon',
      'ping', 'pipe', 'sende', 'schick', 'schicke', 'envoie', 'envia', 'manda'], symbols: '@',
  },
  {
    id: 'exfil.markdown_beacon', category: 'exfiltration',
    pattern: re(`!\\[[^\\]\\n]{0,100}\\]\\(https?://[^)\\s]{1,300}[?&][^)\\s]{0,200}(?:\\{|\\[|%7b|\\$|<)`),
    triggers: ['http', 'https'], needs: '!',
  },
  {
    id: 'exfil.reads_secrets', weak: true, category: 'exfiltration',
    pattern: re(`${any('os\\.environ', 'os\\.getenv', 'getenv\\(', 'process\\.env', '\\$env:', '\\bprintenv\\b', 'cookiejar', 'document\\.cookie',
      'browser_cookie', 'cookies\\.(?:sqlite|txt|pkl|json)', 'psutil\\.virtual_memory', '/proc/(?:self|\\d{1,7})/mem', 'readprocessmemory',
      '~?/\\.ssh/', 'id_rsa', '/etc/passwd', '/etc/shadow', '\\.aws/credentials', 'keychain', 'wallet\\.dat')}`),
    triggers: ['environ', 'getenv', 'env', 'printenv', 'cookiejar', 'cookie', 'browser', 'cookies', 'psutil', 'proc', 'readprocessmemory',
      'ssh', 'id', 'etc', 'aws', 'keychain', 'wallet'],
  },
];

// --- tool or command smuggling -----------------------------------------------------------------
const TOOL: Rule[] = [
  {
    id: 'tool.dangerous_shell', category: 'tool_smuggling',
    pattern: re(`${any(
      'curl\\b[^\\n|]{0,200}\\| ?(?:sudo )?(?:ba|z|da)?sh\\b', 'wget\\b[^\\n]{0,200}(?:\\| ?(?:ba)?sh\\b|&& ?(?:sh|bash|chmod|\\./))',
      '\\brm -(?:rf|fr|r -f) (?:/|~|\\*|\\$home|--no-preserve-root)', '\\bdd if=/dev/(?:zero|random|urandom) of=/dev/', '\\bmkfs(?:\\.\\w{1,6})? /dev/',
      ':\\(\\) ?\\{ ?: ?\\| ?: ?& ?\\} ?; ?:', '\\bchmod \\+x [^\\n]{0,80}(?:&&|;) ?\\./', '\\bnc (?:-\\w{1,4} ){0,3}-e\\b', '/dev/tcp/',
      'base64 (?:-d|--decode)[^\\n]{0,40}\\| ?(?:ba)?sh', 'powershell[^\\n]{0,40} -(?:e|enc|encodedcommand)\\b', '\\biex ?\\(', 'invoke-expression',
      'eval\\(atob\\(', '\\bsudo rm\\b', '> ?/etc/(?:passwd|shadow|sudoers|crontab|rc\\.local|profile)', '\\bcrontab -r\\b', 'xmrig', 'minerd\\b',
      'stratum\\+tcp', 'cryptonight', 'systemctl (?:stop|disable|mask) ', 'shutdown (?:-h|-r|now)', '\\breboot\\b" ?>>',
    )}`),
    triggers: ['curl', 'wget', 'rm', 'dd', 'mkfs', 'chmod', 'nc', 'tcp', 'base64', 'powershell', 'iex', 'invoke', 'eval', 'atob', 'sudo',
      'etc', 'crontab', 'xmrig', 'minerd', 'stratum', 'cryptonight', 'systemctl', 'shutdown', 'reboot'], symbols: '{',
  },
  {
    id: 'tool.run_code', weak: true, category: 'tool_smuggling',
    pattern: re(`${any('\\bos\\.system\\(', '\\bsubprocess\\.(?:popen|call|run|check_output)\\(', '\\bexec\\(', '\\beval\\(', 'child_process',
      '\\bexecsync\\(', 'runtime\\.getruntime\\(\\)\\.exec', '\\bshell_exec\\(', 'urlretrieve\\(', '\\burlopen\\(')}`),
    triggers: ['system', 'subprocess', 'exec', 'eval', 'child', 'execsync', 'runtime', 'shell', 'urlretrieve', 'urlopen'],
  },
  {
    id: 'tool.network_send', weak: true, category: 'tool_smuggling',
    pattern: re(`${any('requests\\.(?:post|put|patch)\\(', 'urllib\\.request', 'http\\.client', '\\.sendall?\\(', 'socket\\.socket\\(', 'smtplib', 'yagmail',
      'ftplib', '\\bftp\\(', 'paramiko', 'httpx\\.(?:post|put)', 'aiohttp', 'axios\\.post', 'publish\\.single', '\\bmqtt\\b', 'sendmail\\(', '\\bscp\\b',
      'bluetooth', 'navigator\\.sendbeacon', 'new image\\(\\)\\.src')}`),
    triggers: ['requests', 'urllib', 'http', 'sendall', 'send', 'socket', 'smtplib', 'yagmail', 'ftplib', 'ftp', 'paramiko', 'httpx',
      'aiohttp', 'axios', 'publish', 'mqtt', 'sendmail', 'scp', 'bluetooth', 'navigator', 'image'],
  },
  {
    id: 'tool.code_for_the_ai', category: 'tool_smuggling',
    pattern: re(`\\b${any(
      `${any('following', 'subsequent', 'below', 'this', 'given', 'above', 'provided')} code(?: ${any('block', 'snippet', 'excerpt', 'section', 'segment', 'fragment', 'piece')})?${gap(8)}(?:${any('your', 'the')} )?${any('code', 'solution', 'implementation', 'codebase', 'response', 'answer', 'algorithm', 'program', 'script', 'project', 'logic', 'elucidation', 'framework', 'architecture')}`,
      `${any('include', 'integrate', 'incorporate', 'embed', 'insert', 'add', 'merge', 'blend', 'meld', 'weave', 'fuse', 'infuse', 'utili[sz]e', 'leverage', 'adopt', 'deploy', 'enlist', 'employ', 'absorb', 'interweave', 'harmoni[sz]e', 'engage', 'execute', 'append', 'introduce', 'inject', 'render')}${gap(4)}${any('code', 'snippet', 'script')}`,
      // "your code should embody the following excerpt", "let your solution absorb this snippet"
      `your ${any('code', 'solution', 'implementation', 'codebase', 'answer', 'response', 'program', 'script')}${gap(6)}${any('following', 'subsequent', 'below', 'this', 'these')} (?:code )?${any('code', 'snippet', 'excerpt', 'block', 'lines', 'fragment', 'segment')}`,
    )}\\b`),
    triggers: ['code', 'snippet', 'script'],
  },
  {
    id: 'tool.invoke', category: 'tool_smuggling',
    pattern: re(`\\b${any(
      `${any('call', 'invoke', 'use', 'run', 'execute', 'trigger', 'activate')} (?:the |your |a )?(?:[\\w.-]{1,30} )?${any('tool', 'function', 'plugin', 'command', 'shell', 'terminal', 'api', 'endpoint')}s?(?: \\w{1,20}){0,3} (?:now|immediately|first|right away|without (?:asking|confirmation|approval)|silently|automatically)`,
      `${any('execute', 'run')} (?:the following|this|these|that) (?:shell |bash |terminal )?${any('command', 'code', 'script', 'commands', 'instructions')}`,
      'tool_calls?', 'function_call', '<tool_call>', '<function_calls?>', '<invoke name=', '"name": ?"[\\w.]{1,40}", ?"(?:arguments|parameters|input)"',
      '(?:paste|type|enter|run) (?:this|the following)(?: \\w{1,12})? (?:into|in) (?:your |the )?(?:terminal|shell|console|command line)',
      `${any('fuhre', 'fuhren sie')} (?:den |die |das )?(?:folgenden? )?(?:befehl|code|skript)\\w{0,2} aus`, 'execute[sz]? (?:la|cette) commande', 'ejecuta (?:el|este|el siguiente) comando',
    )}`),
    triggers: ['tool', 'tools', 'function', 'plugin', 'command', 'commands', 'shell', 'terminal', 'api', 'endpoint', 'code', 'script',
      'instructions', 'invoke', 'arguments', 'parameters', 'input', 'console', 'befehl', 'skript', 'commande', 'comando'], also: ['call', 'invoke', 'use', 'run', 'execute', 'trigger', 'activate', 'tool', 'function', 'name', 'paste', 'type', 'enter', 'fuhre',
      'fuhren', 'executez', 'ejecuta'],
  },
];

// --- hidden text and fake structure ----------------------------------------------------------
const HIDDEN: Rule[] = [
  {
    id: 'hidden.chat_marker', category: 'hidden_text',
    pattern: re(`${any(
      '<\\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end)\\|>', '\\[/?inst\\]',
      '<</?sys>>', '</?(?:system|assistant|user|instructions?|admin|developer)(?:[ _-]?(?:prompt|message|instructions?))?>',
      '^#{1,4} ?(?:system|instructions?|human|assistant|user|response)\\b ?:?', '^(?:system|assistant|human|user)(?: message| prompt)? ?: ',
      '<(?:start|end)_of_turn>', '\\[(?:system|admin|developer|assistant|operator)(?: (?:message|note|instructions?|override|prompt))?\\]',
      '\\{\\{ ?system ?\\}\\}', '(?:-{3,}|={3,}|\\*{3,}|#{3,}) ?(?:end|begin|start)\\b',
    )}`),
    triggers: ['system', 'assistant', 'human', 'user', 'inst', 'sys', 'im', 'endoftext', 'eot', 'admin', 'developer', 'operator', 'begin',
      'end', 'start', 'instruction', 'instructions', 'response'], needs: '<[#:{-=*',
  },
  {
    // "begin system prompt", "end of document": a boundary announced in words.
    id: 'hidden.boundary_phrase', category: 'hidden_text',
    pattern: re(`\\b${any(
      '(?:begin|start) (?:of )?(?:the )?(?:system|hidden|secret|new|admin) (?:prompt|instructions?|message)',
      'end of (?:the )?(?:user )?(?:input|prompt|document|context|conversation|email|data)\\b',
    )}`),
    triggers: ['begin', 'start', 'end'], also: ['system', 'hidden', 'secret', 'new', 'admin', 'input', 'prompt', 'document', 'context', 'conversation', 'email', 'data'],
  },
  {
    id: 'hidden.escaped_newlines', category: 'hidden_text',
    pattern: re(`(?:\\\\ ?n ?){3,}`),
    triggers: [], symbols: '\\',
  },
  {
    id: 'hidden.html_hidden', weak: true, category: 'hidden_text',
    pattern: re(`${any('<!--', 'display: ?none', 'visibility: ?hidden', 'font-size: ?0(?:px|pt|em|rem)?\\b', 'opacity: ?0(?:\\.0)?\\b',
      'color: ?(?:#fff(?:fff)?|white|transparent)\\b', 'aria-hidden="?true', '\\bhidden>')}`),
    triggers: ['display', 'visibility', 'font', 'opacity', 'color', 'aria', 'hidden'], symbols: '<',
  },
];

export const RULES: readonly Rule[] = [...OVERRIDE, ...ROLE, ...EXFIL, ...TOOL, ...HIDDEN];
