/**
 * Control characters (C0, DEL, C1) shown as escapes: `\n`, `\t`, `\x1b`, `\u009b`. Paths, member
 * names, identifiers and certificate names come from the input, and a newline or a terminal escape
 * in one would otherwise print a line esdctl never wrote (a forged "OK: macOS would accept it.") or
 * hide the ones it did. Everything else, spaces and non-ASCII letters included, is left as it is.
 */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, c => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    const code = c.charCodeAt(0)
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
