/** One reason a manifest was refused. */
export interface ManifestError {
  /** The manifest file. */
  path: string
  /** JSON pointer to the offending value, e.g. `/programArguments/2`; empty for the whole file. */
  field: string
  /** Names the file and the field and says what is wrong. */
  message: string
  /** What to change. */
  fix: string
}

export function pointerToken(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1')
}

export function manifestError(path: string, field: string, problem: string, fix: string): ManifestError {
  return {path, field, message: `${path}: ${field === '' ? '(whole file)' : field}: ${problem}`, fix}
}
