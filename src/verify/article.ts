/** "a" or "an" before a word, by its first letter (good enough for the kind names esdctl prints: app-store, ad-hoc, enterprise, unknown). */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`
}
