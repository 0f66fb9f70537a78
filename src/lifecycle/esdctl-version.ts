import {readFileSync} from 'node:fs'

/** package.json ships beside the compiled code: dist/src/lifecycle/ → ../../../package.json. */
const PACKAGE_URL = new URL('../../../package.json', import.meta.url)

let cached: string | undefined

/** The version of this esdctl (package.json `version`), written into every journal it opens. */
export function esdctlVersion(): string {
  if (cached === undefined) {
    const parsed = JSON.parse(readFileSync(PACKAGE_URL, 'utf8')) as {version?: unknown}
    cached = typeof parsed.version === 'string' ? parsed.version : '0.0.0'
  }
  return cached
}
