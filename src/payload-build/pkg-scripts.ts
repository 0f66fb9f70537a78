import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {shellQuote} from '../bundle/shell-quote.js'

/** The templates ship beside the compiled code: dist/src/payload-build/ → ../../../templates/pkg/. */
const TEMPLATES = new URL('../../../templates/pkg/', import.meta.url)

export interface PkgScriptValues {
  name: string
  version: string
  /** Absolute path of the esdctl executable on the target Mac. */
  esdctl: string
  /** Absolute path where the pkg drops the payload. */
  payload: string
  /** Absolute path whose existence means "already installed": upgrade instead of install. */
  receipt: string
  /** The esdctl run is the self-contained copy inside the payload (esdctl payload --with-esdctl). */
  esdctlInPayload?: boolean
}

export const PKG_SCRIPT_NAMES = ['preinstall', 'postinstall'] as const
export type PkgScriptName = (typeof PKG_SCRIPT_NAMES)[number]

const SHELL_SLOTS = ['esdctl', 'payload', 'receipt'] as const
/** Only these may appear in comments and messages, unquoted; checked so a template edit cannot inject. */
const WORD = /^[A-Za-z0-9._-]+$/

/** Renders `templates/pkg/<script>`: path values are shell-quoted, name and version must be plain words. */
export function renderPkgScript(script: PkgScriptName, values: PkgScriptValues): string {
  for (const key of SHELL_SLOTS) {
    if (!values[key].startsWith('/') || /[\0\n\r]/.test(values[key])) throw new Error(`${key} must be an absolute path, got ${JSON.stringify(values[key])}`)
  }
  for (const key of ['name', 'version'] as const) {
    if (!WORD.test(values[key])) throw new Error(`${key} must be a plain word, got ${JSON.stringify(values[key])}`)
  }
  const text = readFileSync(new URL(script, TEMPLATES), 'utf8')
  return text.replace(/\{\{(\w+)\}\}/g, (whole, slot: string) => {
    if ((SHELL_SLOTS as readonly string[]).includes(slot)) return shellQuote(values[slot as (typeof SHELL_SLOTS)[number]])
    if (slot === 'name' || slot === 'version') return values[slot]
    if (slot === 'esdctl_in_payload') return values.esdctlInPayload === true ? 'yes' : 'no'
    throw new Error(`${fileURLToPath(new URL(script, TEMPLATES))}: unknown template slot ${whole}`)
  })
}
