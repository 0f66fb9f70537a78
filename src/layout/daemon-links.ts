import {posix} from 'node:path'

/**
 * One symbolic link esdctl maintains for a daemon, as the manifest and the install record write it:
 * `path` is `bin/<file>` or `sbin/<file>` inside the prefix, or `/usr/local/bin/<file>` or
 * `/usr/local/sbin/<file>`; `target` is a file inside the bundle, relative to the bundle
 * (`Contents/MacOS/osqueryd`). In the manifest `target` may be left out, meaning the main executable.
 */
export interface LinkSpec {
  path: string
  target: string
}

/** A link resolved against a layout: where it is written, and the text the link holds. */
export interface PlacedLink {
  /** Rebased onto `--root`: where esdctl writes it. */
  path: string
  /** As the booted Mac sees it. */
  systemPath: string
  /**
   * What readlink(2) returns. Inside the prefix: relative, so the prefix can be moved or rebased.
   * Outside (/usr/local/bin): absolute, as the booted Mac resolves it (osquery's own links do the same).
   */
  text: string
}

/** The target of the default link `bin/<name>`: the main executable. */
export function mainExecutableTarget(executableName: string): string {
  return `Contents/MacOS/${executableName}`
}

export function isOutsidePrefix(link: Pick<LinkSpec, 'path'>): boolean {
  return link.path.startsWith('/')
}

/**
 * Resolves links against a prefix and bundle as the booted system sees them (`/opt/<name>`,
 * `<prefix>/<bundle>`); `rebase` maps a system path onto `--root`.
 */
export function placeLinks(links: readonly LinkSpec[], systemPrefix: string, bundle: string, rebase: (system: string) => string): PlacedLink[] {
  return links.map((link) => {
    const systemPath = isOutsidePrefix(link) ? link.path : posix.join(systemPrefix, link.path)
    const systemTarget = posix.join(systemPrefix, bundle, link.target)
    const text = isOutsidePrefix(link) ? systemTarget : posix.relative(posix.dirname(systemPath), systemTarget)
    return {path: rebase(systemPath), systemPath, text}
  })
}
