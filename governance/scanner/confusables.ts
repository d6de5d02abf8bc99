// Letters from other scripts that look like Latin letters. They are folded to Latin only inside
// words that already contain Latin letters or consist of nothing but look-alikes (see
// normalize.ts), so that real Russian or Greek text keeps its own letters.
const CONFUSABLE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic (lower-case forms; upper case is lower-cased before the lookup)
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['ё', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'], ['р', 'p'],
  ['с', 'c'], ['т', 't'], ['у', 'y'], ['х', 'x'], ['ѕ', 's'], ['і', 'i'], ['ї', 'i'], ['ј', 'j'], ['һ', 'h'],
  ['ԁ', 'd'], ['ԛ', 'q'], ['ԝ', 'w'], ['ӏ', 'l'], ['ɡ', 'g'], ['ь', 'b'], ['п', 'n'], ['г', 'r'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ε', 'e'], ['η', 'n'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'], ['ρ', 'p'],
  ['τ', 't'], ['υ', 'u'], ['χ', 'x'], ['γ', 'y'], ['ω', 'w'], ['ϲ', 'c'], ['ϳ', 'j'],
  // Armenian and other look-alikes seen in spoofing
  ['օ', 'o'], ['ս', 'u'], ['ց', 'g'], ['հ', 'h'], ['ո', 'n'], ['ք', 'p'],
  // Latin letters outside ASCII that NFKD does not reduce
  ['ı', 'i'], ['ȷ', 'j'], ['ł', 'l'], ['ø', 'o'], ['đ', 'd'], ['ħ', 'h'], ['ŧ', 't'], ['ƅ', 'b'], ['ɑ', 'a'],
  ['ɩ', 'i'], ['ɪ', 'i'], ['ʏ', 'y'], ['ᴀ', 'a'], ['ʙ', 'b'], ['ᴄ', 'c'], ['ᴅ', 'd'], ['ᴇ', 'e'], ['ғ', 'f'],
  ['ʜ', 'h'], ['ᴊ', 'j'], ['ᴋ', 'k'], ['ʟ', 'l'], ['ᴍ', 'm'], ['ɴ', 'n'], ['ᴏ', 'o'], ['ᴘ', 'p'], ['ʀ', 'r'],
  ['ꜱ', 's'], ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'], ['ᴡ', 'w'], ['ᴢ', 'z'],
];

/** Code point -> the Latin letter it imitates. */
export const CONFUSABLES: ReadonlyMap<number, number> = new Map(
  CONFUSABLE_PAIRS.map(([from, to]) => [from.codePointAt(0)!, to.charCodeAt(0)]),
);
