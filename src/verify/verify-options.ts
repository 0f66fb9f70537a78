import {TrustStore} from '../trust/trust-store.js'
import type {PageHashOptions} from '../io/page-hasher.js'

/**
 * What a caller of the library may choose. Trust anchors are settable only here, through the API:
 * no flag or environment variable of the CLI can swap a root tool's trust roots.
 */
export interface VerifyOptions {
  /** Anchors the chains must end in. Default: the pinned Apple roots. */
  trust?: TrustStore
  /** The clock, for expiry checks. Default: now. */
  now?: Date
  /** How code pages are hashed (workers for large files by default). */
  pageHashing?: PageHashOptions
}

export interface ResolvedVerifyOptions {
  trust: TrustStore
  now: Date
  pageHashing: PageHashOptions
}

export function resolveVerifyOptions(o: VerifyOptions = {}): ResolvedVerifyOptions {
  return {trust: o.trust ?? TrustStore.apple(), now: o.now ?? new Date(), pageHashing: o.pageHashing ?? {parallel: 'auto'}}
}
