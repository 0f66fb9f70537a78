import * as asn1js from 'asn1js'

/** A half-open byte range `[start, end)` of a DER buffer. */
export type ByteRange = readonly [number, number]

/** Where the bytes a CMS signer's signature covers lie inside its DER, content octets only (no tag or length). */
export interface SignedRegions {
  /** The signed attributes' contents: any change must make the signature fail. */
  signedAttributes: ByteRange
  /** The signature value's contents. */
  signatureValue: ByteRange
  /** The attached content (eContent), when the CMS carries it; its digest is a signed attribute. */
  content?: ByteRange
}

type Block = asn1js.AsnType & {valueBeforeDecodeView: Uint8Array; valueBlock: {value?: Block[]; blockLength: number}; idBlock: {tagClass: number; tagNumber: number}}

function children(b: Block): Block[] {
  return (b.valueBlock.value ?? []) as Block[]
}

function contentRange(b: Block, base: Uint8Array): ByteRange {
  const start = b.valueBeforeDecodeView.byteOffset - base.byteOffset
  const end = start + b.valueBeforeDecodeView.length
  return [end - b.valueBlock.blockLength, end]
}

/**
 * Locates, in a ContentInfo/SignedData DER (RFC 5652 §5), the first signer's signed attributes and
 * signature value, and the attached content. Test support: finds where a mutation must invalidate.
 */
export function signedRegions(der: Uint8Array): SignedRegions {
  const view = new Uint8Array(der)
  const parsed = asn1js.fromBER(view)
  if (parsed.offset === -1) throw new Error(`not DER: ${parsed.result.error}`)
  const contentInfo = parsed.result as Block
  const signedData = children(children(contentInfo)[1]!)[0]!
  const parts = children(signedData)
  const encap = parts[2]!
  const signerInfos = parts.find(p => p.idBlock.tagClass === 1 && p.idBlock.tagNumber === 17 && p !== parts[1])!
  const signer = children(signerInfos)[0]!
  const fields = children(signer)
  const attrs = fields.find(f => f.idBlock.tagClass === 3 && f.idBlock.tagNumber === 0)!
  const signature = fields.find(f => f.idBlock.tagClass === 1 && f.idBlock.tagNumber === 4)!
  const out: SignedRegions = {signedAttributes: contentRange(attrs, view), signatureValue: contentRange(signature, view)}
  const explicit = children(encap)[1]
  const eContent = explicit ? children(explicit)[0] : undefined
  if (eContent) {
    // eContent may be one primitive OCTET STRING or a constructed one of pieces; either way its octets are signed.
    out.content = contentRange(eContent, view)
  }
  return out
}

export function within(at: number, range: ByteRange | undefined): boolean {
  return range !== undefined && at >= range[0] && at < range[1]
}
