import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

/** The template ships beside the compiled code: dist/src/bundle/ → ../../../templates/. */
const TEMPLATE_URL = new URL('../../../templates/Info.plist.xml', import.meta.url)
const SLOTS = ['executable', 'bundleId', 'name', 'version', 'build', 'minMacos'] as const

export type InfoPlistValues = Record<(typeof SLOTS)[number], string>

/** The PkgInfo file: package type APPL, then the creator code, unknown (`????`). */
export const PKG_INFO = 'APPL????'

let template: string | undefined

function infoPlistTemplate(): string {
  if (template === undefined) {
    const text = readFileSync(TEMPLATE_URL, 'utf8')
    for (const slot of SLOTS) {
      if (text.split(`{{${slot}}}`).length !== 2) throw new Error(`${fileURLToPath(TEMPLATE_URL)}: the template must contain {{${slot}}} exactly once`)
    }
    template = text
  }
  return template
}

function xmlText(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}

/** Info.plist for a daemon bundle: an APPL with no UI (LSUIElement, LSBackgroundOnly). */
export function renderInfoPlist(values: InfoPlistValues): string {
  let text = infoPlistTemplate()
  for (const slot of SLOTS) text = text.replace(`{{${slot}}}`, () => xmlText(values[slot]))
  return text
}
