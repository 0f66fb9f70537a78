import {APPLE_ROOT_ANCHORS} from './apple-roots.js'

/** A certificate trusted as the end of a chain, and the name reports use for it. */
export interface TrustAnchor {
  name: string
  der: Buffer
}

/**
 * The set of roots a chain may end at. Built only from DER handed to the constructor: nothing
 * (no environment variable, flag or file) can add to the production store returned by `apple()`.
 * Tests pass their own anchors through the constructor.
 */
export class TrustStore {
  readonly anchors: readonly TrustAnchor[]

  constructor(anchors: readonly TrustAnchor[]) {
    this.anchors = Object.freeze(anchors.map(a => Object.freeze({name: a.name, der: Buffer.from(a.der)})))
  }

  /** Only Apple Root CA and Apple Root CA - G3, each pinned by SHA-256. */
  static apple(): TrustStore {
    return new TrustStore(APPLE_ROOT_ANCHORS)
  }

  /** The anchor whose DER is byte-identical to `der`, if any. */
  anchorFor(der: Buffer): TrustAnchor | undefined {
    return this.anchors.find(a => a.der.equals(der))
  }
}
