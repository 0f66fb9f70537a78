import type {PrefixLayout} from '../layout/prefix-layout.js'

/**
 * `{name}` placeholders a manifest may use to refer to paths of the installed layout, so a payload
 * never spells out `/opt/<name>` and keeps working under `--root`. `{{` and `}}` stand for literal
 * braces. Any other `{...}` is an error rather than passed through, so a typo cannot reach launchd.
 */
export const PLACEHOLDERS = ['prefix', 'app', 'executable', 'bin', 'etc', 'lib', 'modules', 'share', 'var', 'name', 'label'] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]

export type Expansion = {value: string} | {error: string}

function placeholderValue(placeholder: Placeholder, layout: PrefixLayout): string {
  switch (placeholder) {
    case 'prefix':
      return layout.prefix
    case 'app':
      return layout.app
    case 'executable':
      return layout.executable
    case 'bin':
      return layout.bin
    case 'etc':
      return layout.etc
    case 'lib':
      return layout.lib
    case 'modules':
      return layout.modules
    case 'share':
      return layout.share
    case 'var':
      return layout.var
    case 'name':
      return layout.name
    case 'label':
      return layout.label
  }
}

function isPlaceholder(s: string): s is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(s)
}

export function expandPlaceholders(template: string, layout: PrefixLayout): Expansion {
  let out = ''
  let i = 0
  while (i < template.length) {
    const c = template[i]
    if (c === '{' && template[i + 1] === '{') {
      out += '{'
      i += 2
    } else if (c === '}' && template[i + 1] === '}') {
      out += '}'
      i += 2
    } else if (c === '{') {
      const end = template.indexOf('}', i + 1)
      if (end < 0) return {error: `unclosed '{' at position ${i}; write '{{' for a literal brace`}
      const key = template.slice(i + 1, end)
      if (!isPlaceholder(key)) {
        return {error: `unknown placeholder {${key}}; known placeholders are ${PLACEHOLDERS.map(p => `{${p}}`).join(', ')}`}
      }
      out += placeholderValue(key, layout)
      i = end + 1
    } else if (c === '}') {
      return {error: `stray '}' at position ${i}; write '}}' for a literal brace`}
    } else {
      out += c
      i += 1
    }
  }
  return {value: out}
}
