// Reading one slice's header and signature (src/verify/signed-slice.ts), with the inputs that only
// a hand-edited signature or a file changing under the reader gives (issue 14, area verify-checks).
import {strict as assert} from 'node:assert'
import {mkdtemp, rm, truncate, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseFileLayout, type SliceLocation} from '../../src/formats/macho.js'
import {RandomAccessFile} from '../../src/io/random-access-file.js'
import {readSignedSlice} from '../../src/verify/signed-slice.js'
import {buildSignedMachOSlice} from '../support/macho-writer.js'
import {SLOT, type SignOptions} from '../support/signature-writer.js'

const SUPERBLOB_MAGIC = Buffer.from([0xfa, 0xde, 0x0c, 0xc0])

describe('verify checks: reading a slice\'s signature', () => {
  let dir: string
  let n = 0
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-slice-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))

  /** An ad-hoc signed thin arm64 executable (two CodeDirectories by default), its bytes and where its SuperBlob starts. */
  async function built(sign: Partial<SignOptions> = {}): Promise<{bytes: Buffer; superBlob: number}> {
    const {bytes} = await buildSignedMachOSlice({arch: 'arm64', codeSize: 8192}, {identifier: 'com.example.slice', hashTypes: [1, 2], ...sign})
    return {bytes, superBlob: bytes.indexOf(SUPERBLOB_MAGIC)}
  }

  /** The SuperBlob's index as [slot, offset] pairs. */
  function index(bytes: Buffer, at: number): Array<[number, number]> {
    const count = bytes.readUInt32BE(at + 8)
    return Array.from({length: count}, (_, i) => [bytes.readUInt32BE(at + 12 + 8 * i), bytes.readUInt32BE(at + 16 + 8 * i)])
  }

  function writeIndex(bytes: Buffer, at: number, entries: Array<[number, number]>): void {
    entries.forEach(([slot, offset], i) => {
      bytes.writeUInt32BE(slot, at + 12 + 8 * i)
      bytes.writeUInt32BE(offset, at + 16 + 8 * i)
    })
  }

  /** readSignedSlice on the file's only slice, the file opened before `meanwhile` runs. */
  async function read(bytes: Buffer, meanwhile?: (path: string) => Promise<void>) {
    const path = join(dir, `s${n++}`)
    await writeFile(path, bytes)
    const location: SliceLocation = parseFileLayout(bytes.subarray(0, 4096), bytes.length).slices[0]!
    const file = await RandomAccessFile.open(path)
    try {
      await meanwhile?.(path)
      return await readSignedSlice(file, location, '<file>')
    } finally {
      await file.close()
    }
  }

  describe('which blobs are CodeDirectories', () => {
    it('slot 0 and the alternates 0x1000 to 0x1004, in slot order whatever the index order', async () => {
      const {bytes, superBlob} = await built({hashTypes: [1, 2]})
      const entries = index(bytes, superBlob)
      const alternate = entries.findIndex(([slot]) => slot === SLOT.firstAlternateCodeDirectory)
      // The alternate moved to the last alternate slot, and listed before slot 0.
      const reordered: Array<[number, number]> = [[0x1004, entries[alternate]![1]], ...entries.filter((_, i) => i !== alternate)]
      writeIndex(bytes, superBlob, reordered)
      const {slice, findings} = await read(bytes)
      assert.deepEqual(findings, [])
      assert.deepEqual(slice?.signature?.codeDirectories.map(c => [c.slot, c.cd.hashType]), [[0, 1], [0x1004, 2]])
    })

    it('a blob at slot 0x1005 is past the five alternates and not a CodeDirectory', async () => {
      const {bytes, superBlob} = await built({hashTypes: [1, 2]})
      writeIndex(bytes, superBlob, index(bytes, superBlob).map(([slot, offset]) => [slot === SLOT.firstAlternateCodeDirectory ? 0x1005 : slot, offset]))
      const {slice} = await read(bytes)
      assert.deepEqual(slice?.signature?.codeDirectories.map(c => c.slot), [0])
    })

    it('a signature with no CodeDirectory at all is malformed, saying slot 0 has none', async () => {
      const {bytes, superBlob} = await built({hashTypes: [2]})
      writeIndex(bytes, superBlob, index(bytes, superBlob).map(([slot, offset]) => [slot === SLOT.codeDirectory ? 0x1005 : slot, offset]))
      const {slice, findings} = await read(bytes)
      assert.equal(slice?.signature, undefined)
      assert.deepEqual(findings.map(f => [f.id, f.message]), [
        ['signature.malformed', '<file> [arm64]: the code signature cannot be read: <file> [arm64]: the signature has no CodeDirectory in slot 0'],
      ])
    })
  })

  it('a requirements slot holding another kind of blob is kept, and no requirement text is read from it', async () => {
    const other = Buffer.alloc(12)
    other.writeUInt32BE(0xfade0c00, 0) // a single requirement, not a requirement set
    other.writeUInt32BE(12, 4)
    const {bytes} = await built({requirementsBlob: other})
    const {slice, findings} = await read(bytes)
    assert.deepEqual(findings, [])
    assert.equal(slice?.signature?.requirements?.magic, 0xfade0c00)
    assert.deepEqual(slice?.signature?.requirementTexts, [])
  })

  describe('a file cut short after it was opened: the finding names what could not be read', () => {
    it('the Mach-O header', async () => {
      const {bytes} = await built()
      const {slice, findings} = await read(bytes, path => truncate(path, 16))
      assert.equal(slice, undefined)
      assert.deepEqual(findings.map(f => f.id), ['macho.malformed'])
      assert.match(findings[0]!.message, /^<file> \[arm64\]: \S+: file shrank while reading Mach-O header$/)
    })

    it('the load commands', async () => {
      const {bytes} = await built()
      const {findings} = await read(bytes, path => truncate(path, 64))
      assert.deepEqual(findings.map(f => f.id), ['macho.malformed'])
      assert.match(findings[0]!.message, /^<file> \[arm64\]: \S+: file shrank while reading load commands$/)
    })

    it('the code signature', async () => {
      const {bytes, superBlob} = await built()
      const {slice, findings} = await read(bytes, path => truncate(path, superBlob))
      assert.equal(slice?.signature, undefined)
      assert.ok(slice?.image.codeSignature, 'the header was read')
      assert.deepEqual(findings.map(f => f.id), ['signature.malformed'])
      assert.match(findings[0]!.message, /^<file> \[arm64\]: the code signature cannot be read: \S+: file shrank while reading code signature$/)
    })
  })

  it('a slice shorter than a Mach-O header reads only its own bytes', async () => {
    // A universal file's first slice of 16 bytes, its second slice right after: the header read must stop at 16.
    const {bytes} = await built()
    const path = join(dir, `s${n++}`)
    await writeFile(path, bytes)
    const file = await RandomAccessFile.open(path)
    try {
      const location: SliceLocation = {offset: bytes.length - 16, size: 16, cpuType: 0x0100000c, cpuSubtype: 0, arch: 'arm64', align: 0}
      const {slice, findings} = await readSignedSlice(file, location, '<file>')
      assert.equal(slice, undefined)
      assert.deepEqual(findings.map(f => f.id), ['macho.malformed'])
      assert.doesNotMatch(findings[0]!.message, /lies beyond the file/)
    } finally {
      await file.close()
    }
  })

  it('a fault of the reader itself is thrown, not reported as a damaged file', async () => {
    const {bytes} = await built()
    const location: SliceLocation = parseFileLayout(bytes.subarray(0, 4096), bytes.length).slices[0]!
    const broken = {read: () => Promise.reject(new TypeError('reader fault'))} as unknown as RandomAccessFile
    await assert.rejects(readSignedSlice(broken, location, '<file>'), TypeError)
    // Past the header: the fault comes while reading the signature.
    const path = join(dir, `s${n++}`)
    await writeFile(path, bytes)
    const file = await RandomAccessFile.open(path)
    try {
      let reads = 0
      const faulty = {read: (offset: number, length: number, what: string) => (++reads > 2 ? Promise.reject(new TypeError('reader fault')) : file.read(offset, length, what))} as unknown as RandomAccessFile
      await assert.rejects(readSignedSlice(faulty, location, '<file>'), TypeError)
      assert.equal(reads, 3)
    } finally {
      await file.close()
    }
  })
})
