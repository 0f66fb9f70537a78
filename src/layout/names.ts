/**
 * The daemon's name becomes `/opt/<name>`, `<name>.app` and the executable's file name; the label
 * becomes `/Library/LaunchDaemons/<label>.plist`. Both are therefore restricted to characters that
 * cannot form a path separator, a `..` segment or anything a shell or launchd would reinterpret.
 * The manifest schema carries the same patterns (a test keeps them equal).
 */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$'
export const LABEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)+$'
export const LABEL_MAX_LENGTH = 255

const nameRegExp = new RegExp(NAME_PATTERN)
const labelRegExp = new RegExp(LABEL_PATTERN)

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && nameRegExp.test(name) && !name.includes('..')
}

export function isValidLabel(label: unknown): label is string {
  return typeof label === 'string' && label.length <= LABEL_MAX_LENGTH && labelRegExp.test(label)
}
