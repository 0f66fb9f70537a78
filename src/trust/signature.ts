import {createPublicKey, verify, type KeyObject} from 'node:crypto'
import type {X509Fields} from '../formats/certificate.js'

/** Digest algorithm OIDs to the names node:crypto knows. */
export const DIGEST_ALGORITHMS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
}

/** Signature algorithms that name their own digest (PKCS #1 v1.5 and ECDSA). */
const SIGNATURE_DIGESTS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
}

/** Key-type OIDs that CMS signers may put in signatureAlgorithm, leaving the digest to digestAlgorithm. */
const BARE_KEY_ALGORITHMS = new Set(['1.2.840.113549.1.1.1', '1.2.840.10045.2.1'])

/** A verdict; an invalid signature always says why. */
export type SignatureCheck = {valid: true; error?: undefined} | {valid: false; error: string}

/** Keys already made, by the SubjectPublicKeyInfo buffer of a (cached, never mutated) parsed certificate. */
const keys = new WeakMap<Uint8Array, KeyObject>()

/** The key of a DER SubjectPublicKeyInfo; throws when node:crypto cannot read it. */
export function publicKeyOf(spki: Uint8Array): KeyObject {
  let key = keys.get(spki)
  // Stryker disable next-line ConditionalExpression: a miss every time only makes the same key again (the cache saves time, not behaviour)
  if (key === undefined) {
    key = createPublicKey({key: Buffer.from(spki), format: 'der', type: 'spki'})
    // Stryker disable next-line CallExpression: as above
    keys.set(spki, key)
  }
  return key
}

/**
 * Checks `signature` over `data` with the key in `spki`. `digestOid` is the CMS digestAlgorithm,
 * needed when `algorithmOid` names only the key type. Never throws: a key or algorithm node cannot
 * use is an invalid signature with the reason attached.
 */
export function checkSignature(spki: Uint8Array, algorithmOid: string, digestOid: string | undefined, data: Uint8Array, signature: Uint8Array): SignatureCheck {
  const digest = SIGNATURE_DIGESTS[algorithmOid] ?? (BARE_KEY_ALGORITHMS.has(algorithmOid) && digestOid ? DIGEST_ALGORITHMS[digestOid] : undefined)
  if (digest === undefined) return {valid: false, error: `unsupported signature algorithm ${algorithmOid}${digestOid ? ` with digest ${digestOid}` : ''}`}
  try {
    const key = publicKeyOf(spki)
    return verify(digest, data, key, signature) ? {valid: true} : {valid: false, error: 'signature does not verify with the signer key'}
  } catch (e) {
    return {valid: false, error: `signature could not be checked: ${(e as Error).message}`}
  }
}

/** Verifies that `child` was signed by the key of `issuer`. */
export function certificateSignedBy(child: X509Fields, issuer: X509Fields): SignatureCheck {
  return checkSignature(issuer.subjectPublicKeyInfo, child.signatureAlgorithm, undefined, child.tbs, child.signatureValue)
}
