/**
 * The daemon's name becomes `/opt/<name>` and the default bundle `<name>.app`; the label becomes
 * `/Library/LaunchDaemons/<label>.plist`. Both are therefore restricted to characters that cannot
 * form a path separator, a `..` segment or anything a shell or launchd would reinterpret. Case is
 * kept as people write it (Karabiner's daemon is `Karabiner-VirtualHIDDevice-Daemon`); because
 * APFS is case-insensitive by default, two names that differ only in case are the same prefix, and
 * callers compare with `sameName`. The manifest schema carries the same patterns (a test keeps
 * them equal).
 */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'
export const LABEL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]*(\\.[A-Za-z0-9_-]+)+$'
export const LABEL_MAX_LENGTH = 255

/** One path segment esdctl writes: starts with a letter, digit or '_', then letters, digits, '.', '_', '-'. */
const SEGMENT = '[A-Za-z0-9_][A-Za-z0-9._-]{0,63}'

/**
 * `bundle`: where the bundle sits inside the prefix, e.g. `thed.app` or osquery's `lib/osquery.app`:
 * one to three segments, the last ending in `.app`.
 */
export const BUNDLE_PATH_PATTERN = `^(${SEGMENT}/){0,2}${SEGMENT}\\.app$`

/**
 * `links[].path`: a link in the prefix's `bin/` or `sbin/`, or in `/usr/local/bin` or
 * `/usr/local/sbin` (where osquery puts `osqueryi`); one file name, never a deeper path.
 */
export const LINK_PATH_PATTERN = `^(/usr/local/)?s?bin/${SEGMENT}$`

/** `links[].target`: a file inside the bundle, relative to the bundle, e.g. `Contents/Resources/osqueryctl`. */
export const LINK_TARGET_PATTERN = `^Contents(/${SEGMENT}){1,8}$`

/** Top-level prefix entries a bundle may not live in: they are the admin's state, esdctl's links or records. */
export const RESERVED_PREFIX_ENTRIES = ['etc', 'var', 'bin', 'sbin'] as const

const nameRegExp = new RegExp(NAME_PATTERN)
const labelRegExp = new RegExp(LABEL_PATTERN)
const bundleRegExp = new RegExp(BUNDLE_PATH_PATTERN)
const linkPathRegExp = new RegExp(LINK_PATH_PATTERN)
const linkTargetRegExp = new RegExp(LINK_TARGET_PATTERN)

function noDotDot(s: string): boolean {
  return !s.split('/').some((segment) => segment === '..' || segment.includes('..'))
}

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && nameRegExp.test(name) && !name.includes('..')
}

export function isValidLabel(label: unknown): label is string {
  return typeof label === 'string' && label.length <= LABEL_MAX_LENGTH && labelRegExp.test(label)
}

/** True when two daemon names would be one directory on a case-insensitive volume. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

export function isValidBundlePath(bundle: unknown): bundle is string {
  if (typeof bundle !== 'string' || !bundleRegExp.test(bundle) || !noDotDot(bundle)) return false
  const first = bundle.split('/')[0]!.toLowerCase()
  return !(RESERVED_PREFIX_ENTRIES as readonly string[]).includes(first) || !bundle.includes('/')
}

export function isValidLinkPath(path: unknown): path is string {
  return typeof path === 'string' && linkPathRegExp.test(path) && noDotDot(path)
}

export function isValidLinkTarget(target: unknown): target is string {
  return typeof target === 'string' && linkTargetRegExp.test(target) && noDotDot(target)
}

/**
 * CFBundleExecutable names a file in Contents/MacOS; anything that could step out of that directory
 * or that launchd's Program would mangle is refused. Length: HFS+/APFS allow 255 UTF-8 bytes.
 */
export function isValidExecutableName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9 ._+-]{0,254}$/.test(name) && !name.includes('..')
}
