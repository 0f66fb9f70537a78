import type {CertificateInfo} from '../formats/certificate.js'

export type SignerKind = 'apple' | 'developer-id' | 'apple-development' | 'apple-distribution' | 'adhoc' | 'other' | 'unsigned'

export function signerKindOf(leaf: CertificateInfo | undefined): SignerKind {
  if (!leaf) return 'other'
  switch (leaf.role) {
    case 'apple':
    case 'developer-id':
    case 'apple-development':
    case 'apple-distribution':
      return leaf.role
    default:
      return 'other'
  }
}
