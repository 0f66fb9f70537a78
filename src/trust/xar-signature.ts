import {constants, publicDecrypt} from 'node:crypto'
import type {ParsedCertificate} from '../formats/certificate.js'
import {publicKeyOf, type SignatureCheck} from './signature.js'

/** DER DigestInfo prefixes (RFC 8017 §9.2, note 1) that PKCS #1 v1.5 wraps around a digest. */
const DIGEST_INFO_PREFIX: Readonly<Record<string, string>> = {
  md5: '3020300c06082a864886f70d020505000410',
  sha1: '3021300906052b0e03021a05000414',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}

/**
 * Checks a xar `<signature style="RSA">`: an RSA PKCS #1 v1.5 signature whose DigestInfo holds the
 * TOC checksum itself (`digestName` = the checksum's algorithm), made with the key of `leaf`, the
 * first certificate of the signature's KeyInfo. Verified against the real Developer ID Installer
 * packages in shared/fixtures. Never throws.
 */
export function checkXarRsaSignature(leaf: ParsedCertificate, digestName: string, checksum: Buffer, signature: Buffer): SignatureCheck {
  const prefix = DIGEST_INFO_PREFIX[digestName]
  if (!prefix) return {valid: false, error: `the TOC checksum algorithm ${digestName} cannot be signed with RSA here`}
  let key
  try {
    key = publicKeyOf(leaf.cert.subjectPublicKeyInfo)
  } catch (e) {
    return {valid: false, error: `the signing certificate's key cannot be read (${(e as Error).message})`}
  }
  if (key.asymmetricKeyType !== 'rsa') return {valid: false, error: `the signing certificate's key is ${key.asymmetricKeyType}, not RSA`}
  let recovered: Buffer
  try {
    recovered = publicDecrypt({key, padding: constants.RSA_PKCS1_PADDING}, signature)
  } catch {
    return {valid: false, error: 'the signature does not verify with the signing certificate\'s key'}
  }
  return recovered.equals(Buffer.concat([Buffer.from(prefix, 'hex'), checksum]))
    ? {valid: true}
    : {valid: false, error: 'the signature does not cover the TOC checksum'}
}
