import {createHash} from 'node:crypto'
import {parseCertificate, type CertificateInfo, type ParsedCertificate} from '../formats/certificate.js'
import {verifyCms} from '../trust/cms.js'
import {isFormatError} from '../formats/format-error.js'
import type {XarToc, XarSignatureRef} from '../formats/xar-toc.js'
import {buildChain, type ChainResult} from '../trust/chain.js'
import {checkXarRsaSignature} from '../trust/xar-signature.js'
import {finding, type Finding} from './finding.js'
import type {PackageSignerKind} from './package-report.js'
import type {ResolvedVerifyOptions} from './verify-options.js'

const RESIGN = 'Sign the package again with your Developer ID Installer identity: productsign --sign "Developer ID Installer: … (TEAMID)" --timestamp in.pkg out.pkg (or pkgbuild/productbuild --sign).'
const OID_DEVELOPER_ID_INSTALLER = '1.2.840.113635.100.6.1.14'
const OID_MAC_INSTALLER_DISTRIBUTION = '1.2.840.113635.100.6.1.8'

export interface PackageSignature {
  findings: Finding[]
  signer: PackageSignerKind
  leaf?: CertificateInfo
  timestamp?: Date
  /** The TOC checksum as stored in the heap (what the signatures and a ticket vouch for). */
  checksum?: Buffer
}

/** The heap bytes each TOC reference points at, read by the caller. */
export interface PackageSignatureInput {
  path: string
  toc: XarToc
  compressedToc: Buffer
  /** node:crypto name of the header's checksum algorithm. */
  checksumAlgorithm: string
  readHeap: (offset: number, size: number, what: string) => Promise<Buffer>
}

/**
 * Judges what makes a flat package trustworthy (DESIGN §10, checked against the real packages in
 * shared/fixtures): the TOC checksum (the digest of the compressed TOC, stored in the heap), the RSA
 * `<signature>` whose PKCS #1 DigestInfo is that checksum, the CMS `<x-signature>` detached over the
 * same checksum, both chained to the pinned Apple roots at the CMS's secure timestamp (or now), and
 * a leaf that is a Developer ID Installer certificate.
 */
export async function checkPackageSignature(input: PackageSignatureInput, opts: ResolvedVerifyOptions): Promise<PackageSignature> {
  const {path, toc} = input
  const out: PackageSignature = {findings: [], signer: 'unsigned'}
  const ref = toc.checksum
  if (!ref || input.checksumAlgorithm === 'none') {
    out.findings.push(finding('package.unsigned', path, `${path}: the archive has no TOC checksum, so nothing can sign it`, RESIGN))
    return out
  }
  const actual = createHash(input.checksumAlgorithm).update(input.compressedToc).digest()
  let stored: Buffer
  try {
    stored = await input.readHeap(ref.offset, ref.size, 'the TOC checksum')
  } catch (e) {
    if (!isFormatError(e)) throw e
    out.findings.push(finding('package.malformed', path, e.message))
    return out
  }
  out.checksum = stored
  if (!stored.equals(actual)) {
    out.findings.push(finding('package.toc-checksum-mismatch', path, `${path}: the table of contents does not match its ${input.checksumAlgorithm} checksum (stored ${stored.toString('hex')}, computed ${actual.toString('hex')}); the package was altered after it was built`, RESIGN))
  }
  if (!toc.signature && !toc.xSignature) {
    out.findings.push(finding('package.unsigned', path, `${path}: the package is not signed; Gatekeeper refuses to open a downloaded unsigned package`, RESIGN))
    return out
  }

  // KeyInfo lists the leaf first, then the certificates that chain it.
  const certs = toc.signature ? certificatesOf(path, toc.signature, out.findings) : []
  const rsaLeaf: ParsedCertificate | undefined = certs[0]
  // Stryker disable next-line MethodExpression: the leaf in its own pool changes nothing: buildChain looks there for its issuer, and a leaf that issued itself is a self-signed dead end either way
  const pool = certs.slice(1)
  if (toc.signature) {
    if (toc.signature.style !== 'RSA') {
      out.findings.push(finding('package.signature-invalid', path, `${path}: the <signature> style is "${toc.signature.style}", not RSA`, RESIGN))
    } else if (!rsaLeaf) {
      out.findings.push(finding('package.signature-invalid', path, `${path}: the RSA <signature> carries no certificate in KeyInfo`, RESIGN))
    } else {
      const sig = await readRegion(input, toc.signature, 'the RSA signature', out.findings)
      if (sig) {
        const check = checkXarRsaSignature(rsaLeaf, input.checksumAlgorithm, stored, sig)
        if (!check.valid) out.findings.push(finding('package.signature-invalid', path, `${path}: the RSA signature does not verify over the TOC checksum (${check.error})`, RESIGN))
      }
    }
  }

  let cmsLeaf: CertificateInfo | undefined
  if (toc.xSignature) {
    const der = await readRegion(input, toc.xSignature, 'the CMS signature', out.findings)
    if (der) {
      try {
        const cms = await verifyCms(der, {trust: opts.trust, now: opts.now, detachedContent: stored, validity: 'timestamp-or-now'})
        cmsLeaf = cms.signer
        if (!cms.signatureValid) {
          // Stryker disable next-line StringLiteral: verifyCms never reports an invalid signature without its reason (signed-data.ts fail()), so this text is never shown
          const reason = cms.signatureError ?? 'unknown reason'
          out.findings.push(finding('package.signature-invalid', path, `${path}: the CMS signature does not verify over the TOC checksum (${reason})`, RESIGN))
        }
        if (cms.timestamp?.valid) out.timestamp = cms.timestamp.time
        else if (cms.timestamp) {
          // As for a code signature (cms.timestamp-invalid): the signature stands, judged at the current time instead.
          // Stryker disable next-line StringLiteral: an invalid timestamp always carries its reason (timestamp.ts fail()), so this text is never shown
          const reason = cms.timestamp.error ?? 'unknown reason'
          out.findings.push(finding('package.timestamp-invalid', path, `${path}: the CMS signature's secure timestamp does not verify (${reason}); the package's signatures are judged at the current time instead`, RESIGN))
        }
        if (!cms.chain.trusted) out.findings.push(chainFinding(path, 'CMS signature', cms.chain, cms.signer, opts.now, cms.validatedAtSource === 'now'))
      } catch (e) {
        if (!isFormatError(e)) throw e
        out.findings.push(finding('package.signature-invalid', path, `${path}: the CMS signature cannot be decoded (${e.message})`, RESIGN))
      }
    }
  }
  if (rsaLeaf) {
    const at = out.timestamp ?? opts.now
    const chain = buildChain(rsaLeaf, pool, opts.trust, at)
    if (!chain.trusted) out.findings.push(chainFinding(path, 'RSA signature', chain, rsaLeaf.info, opts.now, out.timestamp === undefined))
  }
  if (rsaLeaf && cmsLeaf && rsaLeaf.info.sha256 !== cmsLeaf.sha256) {
    out.findings.push(finding('package.signatures-disagree', path, `${path}: the RSA signature is by "${rsaLeaf.info.commonName}" but the CMS signature by "${cmsLeaf.commonName}"`, RESIGN))
  }
  out.leaf = rsaLeaf?.info ?? cmsLeaf
  out.signer = signerKind(out.leaf)
  if (out.leaf && out.signer !== 'developer-id-installer') {
    out.findings.push(finding('package.signer-kind', path, `${path}: signed by "${out.leaf.commonName ?? out.leaf.sha256}", which is not a Developer ID Installer certificate; Gatekeeper accepts only that for packages shipped outside the Mac App Store`, RESIGN))
  }
  return out
}

function signerKind(leaf: CertificateInfo | undefined): PackageSignerKind {
  if (!leaf) return 'unsigned'
  if (leaf.appleExtensionOids.includes(OID_DEVELOPER_ID_INSTALLER)) return 'developer-id-installer'
  if (leaf.appleExtensionOids.includes(OID_MAC_INSTALLER_DISTRIBUTION)) return 'mac-installer-distribution'
  return 'other'
}

function certificatesOf(path: string, ref: XarSignatureRef, findings: Finding[]): ParsedCertificate[] {
  const out: ParsedCertificate[] = []
  for (const der of ref.certificates) {
    try {
      out.push(parseCertificate(der))
    } catch (e) {
      if (!isFormatError(e)) throw e
      findings.push(finding('package.signature-invalid', path, `${path}: a certificate in the signature's KeyInfo cannot be read (${e.message})`, RESIGN))
    }
  }
  return out
}

async function readRegion(input: PackageSignatureInput, ref: XarSignatureRef, what: string, findings: Finding[]): Promise<Buffer | undefined> {
  try {
    return await input.readHeap(ref.offset, ref.size, what)
  } catch (e) {
    if (!isFormatError(e)) throw e
    findings.push(finding('package.malformed', input.path, e.message))
    return undefined
  }
}

function chainFinding(path: string, which: string, chain: Pick<ChainResult, 'anchor' | 'error'>, leaf: CertificateInfo | undefined, now: Date, atNow: boolean): Finding {
  const error = chain.error
  // Expiry is the reason only when the chain reached a pinned root and failed on dates.
  if (leaf && atNow && chain.anchor !== undefined && leaf.notAfter.getTime() < now.getTime()) {
    return finding('package.certificate-expired', path, `${path}: the ${which}'s certificate "${leaf.commonName ?? leaf.sha256}" expired on ${leaf.notAfter.toISOString().slice(0, 10)} and no valid secure timestamp vouches for the signing time`, RESIGN)
  }
  // Stryker disable next-line StringLiteral: an untrusted chain always carries its reason (chain.ts untrusted() and problems), so this text is never shown
  const reason = error ?? 'unknown reason'
  return finding('package.untrusted', path, `${path}: the ${which} does not chain to a pinned Apple root (${reason})${leaf?.commonName ? `; signer "${leaf.commonName}"` : ''}`, RESIGN)
}

