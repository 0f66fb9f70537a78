import assert from 'node:assert/strict'
import {deflateSync} from 'node:zlib'
import fc from 'fast-check'
import {readCpioOdc} from '../../src/formats/cpio-odc.js'
import {isFormatError} from '../../src/formats/format-error.js'
import {parseDistribution, parsePackageInfo} from '../../src/formats/package-info.js'
import {decodePbzx} from '../../src/formats/pbzx.js'
import {parseXarHeader, readXarToc} from '../../src/formats/xar.js'
import {parseXarToc} from '../../src/formats/xar-toc.js'
import {parseTicketTrailer} from '../../src/formats/xar-ticket-trailer.js'
import {cpioBytes} from '../../src/io/payload-stream.js'

/** `a cpio member inside an xz chunk\n`, compressed by xz 5 with its defaults (CRC64), as Apple's pbzx chunks are. */
const XZ_CHUNK = Buffer.from('fd377a585a000004e6d6b4460200210116000000742fe5a301002061206370696f206d656d62657220696e7369646520616e20787a206368756e6b0a000000003dab68cfc3067bfc00013921cf286b621fb6f37d010000000004595a', 'hex')

function odc(entries: Array<{name: string; mode: number; data?: string | Buffer}>, trailer = true): Buffer {
  const parts: Buffer[] = []
  const member = (name: string, mode: number, data: Buffer) => {
    const o = (v: number, w: number) => v.toString(8).padStart(w, '0')
    parts.push(Buffer.from(`070707${o(0, 6)}${o(1, 6)}${o(mode, 6)}${o(0, 6)}${o(0, 6)}${o(1, 6)}${o(0, 6)}${o(0, 11)}${o(Buffer.byteLength(name) + 1, 6)}${o(data.length, 11)}`, 'latin1'), Buffer.from(`${name}\0`), data)
  }
  for (const e of entries) member(e.name, e.mode, Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? ''))
  if (trailer) member('TRAILER!!!', 0, Buffer.alloc(0))
  return Buffer.concat(parts)
}

async function* chunked(b: Buffer, size = 5): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(v)
  return b
}

function pbzx(chunks: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('pbzx'), u64(0x01000000n), ...chunks.flatMap((c, i) => [u64(i === chunks.length - 1 ? 0n : 0x01000000n), u64(BigInt(c.length)), c])])
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

async function formatErrorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (isFormatError(e)) return e.code
    throw e
  }
  return 'none'
}

describe('installer package formats', function () {
  describe('odc cpio', function () {
    it('reads files, directories and links in order, whatever the chunking; skips what is not read', async () => {
      const archive = odc([{name: '.', mode: 0o40755}, {name: './Applications', mode: 0o40755}, {name: './Applications/a.txt', mode: 0o100644, data: 'hello'}, {name: './Applications/link', mode: 0o120755, data: 'a.txt'}, {name: './b', mode: 0o100755, data: 'skipped'}])
      for (const size of [1, 3, 76, 4096]) {
        const seen: Array<[string, string, string]> = []
        for await (const e of readCpioOdc(chunked(archive, size), 'test')) {
          const body = e.path === 'Applications/a.txt' ? Buffer.concat(await collect(e.body())).toString() : ''
          seen.push([e.path, e.kind, e.linkTarget ?? body])
        }
        assert.deepEqual(seen, [['.', 'dir', ''], ['Applications', 'dir', ''], ['Applications/a.txt', 'file', 'hello'], ['Applications/link', 'symlink', 'a.txt'], ['b', 'file', '']])
      }
    })

    it('refuses a name that leaves the root, a bad magic, and a stream cut short', async () => {
      assert.equal(await formatErrorOf(collect(readCpioOdc(chunked(odc([{name: './../etc/passwd', mode: 0o100644, data: 'x'}])), 't'))), 'cpio.unsafe-path')
      assert.equal(await formatErrorOf(collect(readCpioOdc(chunked(odc([{name: '/etc/passwd', mode: 0o100644}])), 't'))), 'cpio.unsafe-path')
      const bad = odc([{name: 'a', mode: 0o100644, data: 'x'}])
      bad[0] = 0x31
      assert.equal(await formatErrorOf(collect(readCpioOdc(chunked(bad), 't'))), 'cpio.bad-magic')
      assert.equal(await formatErrorOf(collect(readCpioOdc(chunked(odc([{name: 'a', mode: 0o100644, data: 'xyz'}], false).subarray(0, 80)), 't'))), 'stream.truncated')
    })

    it('never throws anything but a FormatError, whatever the bytes', async () => {
      await fc.assert(fc.asyncProperty(fc.uint8Array({maxLength: 400}), fc.nat(300), async (noise, at) => {
        const archive = Buffer.from(odc([{name: 'x/y', mode: 0o100644, data: 'payload bytes'}]))
        const mutated = Buffer.concat([archive.subarray(0, at % archive.length), Buffer.from(noise)])
        const code = await formatErrorOf(collect(readCpioOdc(chunked(mutated, 7), 'fuzz')))
        assert.ok(typeof code === 'string')
      }), {numRuns: 300})
    })
  })

  describe('pbzx', function () {
    it('decodes xz chunks and stored chunks in order', async () => {
      const out = Buffer.concat(await collect(decodePbzx(chunked(pbzx([XZ_CHUNK, Buffer.from('stored chunk\n')]), 9), 'test')))
      assert.equal(out.toString(), 'a cpio member inside an xz chunk\nstored chunk\n')
    })

    it('refuses damaged xz data, a bad magic, an absurd chunk length and trailing bytes', async () => {
      const damaged = Buffer.from(XZ_CHUNK)
      damaged[40] = damaged[40]! ^ 0xff
      assert.equal(await formatErrorOf(collect(decodePbzx(chunked(pbzx([damaged])), 't'))), 'pbzx.xz')
      assert.equal(await formatErrorOf(collect(decodePbzx(chunked(Buffer.from('pbzy00000000')), 't'))), 'pbzx.bad-magic')
      const huge = Buffer.concat([Buffer.from('pbzx'), u64(0x01000000n), u64(0n), u64(1n << 40n)])
      assert.equal(await formatErrorOf(collect(decodePbzx(chunked(huge), 't'))), 'pbzx.chunk-size')
      assert.equal(await formatErrorOf(collect(decodePbzx(chunked(Buffer.concat([pbzx([Buffer.from('x')]), Buffer.from('junk')])), 't'))), 'pbzx.trailing')
    })

    it('a pbzx Payload reads as cpio, like a gzip one', async () => {
      const archive = odc([{name: './bin/tool', mode: 0o100755, data: 'tool'}])
      const names = (await collect(readCpioOdc(cpioBytes(chunked(pbzx([archive])), 'Payload', 1 << 20), 'Payload'))).map(e => e.path)
      assert.deepEqual(names, ['bin/tool'])
    })

    it('a Payload that inflates past the bound stops with payload.too-large', async () => {
      const archive = odc([{name: 'big', mode: 0o100644, data: Buffer.alloc(10_000)}])
      assert.equal(await formatErrorOf(collect(cpioBytes(chunked(pbzx([archive]), 999), 'Payload', 5000))), 'payload.too-large')
    })
  })

  describe('xar header and TOC', function () {
    const toc = '<?xml version="1.0"?><xar><toc><checksum style="sha1"><offset>0</offset><size>20</size></checksum>' +
      '<file id="1"><name>Foo.pkg</name><type>directory</type><file id="2"><name>PackageInfo</name><type>file</type><data><offset>20</offset><length>3</length><size>3</size>' +
      '<encoding style="application/octet-stream"/><archived-checksum style="sha1">AB</archived-checksum></data></file></file></toc></xar>'

    function xar(xml: string, tocLength = Buffer.byteLength(xml)): Buffer {
      const c = deflateSync(xml)
      const h = Buffer.alloc(28)
      h.write('xar!')
      h.writeUInt16BE(28, 4)
      h.writeUInt16BE(1, 6)
      h.writeBigUInt64BE(BigInt(c.length), 8)
      h.writeBigUInt64BE(BigInt(tocLength), 16)
      h.writeUInt32BE(1, 24)
      return Buffer.concat([h, c, Buffer.alloc(23)])
    }

    it('flattens nested files into paths and reads their data references', () => {
      const bytes = xar(toc)
      const header = parseXarHeader(bytes, bytes.length, 't')
      const t = readXarToc(header, bytes.subarray(28, header.heapStart), 't')
      assert.deepEqual(t.entries.map(e => [e.path, e.type]), [['Foo.pkg', 'directory'], ['Foo.pkg/PackageInfo', 'file']])
      assert.deepEqual(t.entries[1]!.data, {offset: 20, length: 3, size: 3, encoding: 'application/octet-stream', archivedChecksum: {style: 'sha1', hex: 'ab'}})
    })

    it('refuses unsafe names, non-numeric offsets, a lying TOC length and a TOC larger than the file', () => {
      assert.throws(() => parseXarToc(toc.replace('<name>PackageInfo</name>', '<name>../x</name>'), 't'), (e: unknown) => isFormatError(e) && e.code === 'xar.toc-name')
      assert.throws(() => parseXarToc(toc.replace('<offset>20</offset>', '<offset>-1</offset>'), 't'), (e: unknown) => isFormatError(e) && e.code === 'xar.toc-field')
      assert.throws(() => parseXarToc('<xar><toc>', 't'), (e: unknown) => isFormatError(e) && e.code === 'xar.toc-xml')
      const lying = xar(toc, 10)
      const h = parseXarHeader(lying, lying.length, 't')
      assert.throws(() => readXarToc(h, lying.subarray(28, h.heapStart), 't'), (e: unknown) => isFormatError(e) && e.code === 'xar.toc-inflate')
      assert.throws(() => parseXarHeader(lying, 40, 't'), (e: unknown) => isFormatError(e) && e.code === 'xar.truncated')
    })

    it('never throws anything but a FormatError, whatever the header and TOC bytes', () => {
      fc.assert(fc.property(fc.uint8Array({minLength: 28, maxLength: 300}), fc.boolean(), (noise, keepMagic) => {
        const bytes = Buffer.from(noise)
        if (keepMagic) bytes.write('xar!')
        try {
          const h = parseXarHeader(bytes, bytes.length, 'fuzz')
          readXarToc(h, bytes.subarray(h.headerSize, h.heapStart), 'fuzz')
        } catch (e) {
          if (!isFormatError(e)) throw e
        }
      }), {numRuns: 1000})
    })
  })

  it('PackageInfo and Distribution: identifier, version, install-location, scripts; product and component refs', () => {
    const info = parsePackageInfo('<pkg-info identifier="com.example.d" version="1.2" install-location="/opt/d" auth="root"><payload numberOfFiles="3" installKBytes="12"/><scripts><preinstall file="./preinstall"/><postinstall file="./post"/></scripts></pkg-info>', 'PackageInfo')
    assert.deepEqual(info, {identifier: 'com.example.d', version: '1.2', installLocation: '/opt/d', auth: 'root', scripts: [{kind: 'preinstall', file: './preinstall'}, {kind: 'postinstall', file: './post'}], payload: {numberOfFiles: 3, installKBytes: 12}})
    const dist = parseDistribution('<installer-gui-script minSpecVersion="2"><title>D</title><product id="com.example.product" version="1.2"/><pkg-ref id="com.example.d" version="1.2">#d.pkg</pkg-ref></installer-gui-script>', 'Distribution')
    assert.deepEqual(dist, {productId: 'com.example.product', productVersion: '1.2', title: 'D', packageRefs: [{id: 'com.example.d', version: '1.2', ref: '#d.pkg'}]})
    assert.throws(() => parsePackageInfo('<plist/>', 'PackageInfo'), /not <pkg-info>/)
  })

  it('the stapled-ticket trailer: found at the end, absent otherwise, refused when it cannot fit', () => {
    const trailer = (type: number, length: number) => {
      const b = Buffer.alloc(16)
      b.write('t8lr', 'latin1')
      b.writeUInt16LE(1, 4)
      b.writeUInt16LE(type, 6)
      b.writeUInt32LE(length, 8)
      return b
    }
    assert.deepEqual(parseTicketTrailer(trailer(2, 100), 1000, 'p'), {offset: 884, length: 100, archiveEnd: 868})
    assert.equal(parseTicketTrailer(trailer(1, 0), 1000, 'p'), undefined)
    assert.equal(parseTicketTrailer(Buffer.alloc(16), 1000, 'p'), undefined)
    assert.throws(() => parseTicketTrailer(trailer(2, 5000), 1000, 'p'), (e: unknown) => isFormatError(e) && e.code === 'xar.ticket-trailer')
  })
})
