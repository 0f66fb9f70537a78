import * as asn1js from 'asn1js'
import {FormatError} from '../../src/formats/format-error.js'

/**
 * Decodes exactly one DER value. asn1js reports most damage in its result but throws plain Errors
 * for some (a malformed GeneralizedTime, for one); both become a FormatError with the caller's code.
 */
export function decodeOneDerValue(der: Uint8Array, code: string, what: string): asn1js.AsnType {
  let asn: ReturnType<typeof asn1js.fromBER>
  try {
    asn = asn1js.fromBER(der)
  } catch (e) {
    throw new FormatError(code, `${what}: not DER (${(e as Error).message})`)
  }
  if (asn.offset === -1 || asn.offset !== der.length) {
    throw new FormatError(code, `${what}: not a single DER value (${asn.result.error || 'trailing bytes'})`)
  }
  return asn.result
}
