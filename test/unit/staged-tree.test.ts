import {strict as assert} from 'node:assert'
import {randomBytes} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {StagedTree} from '../../src/io/staged-tree.js'
import {FormatError} from '../../src/formats/format-error.js'

async function* inPieces(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!
    yield bytes.subarray(at, at + n)
    at += n
  }
}

describe('the staged copy of an item taken out of a package', () => {
  let stage: StagedTree
  beforeEach(async () => {
    stage = await StagedTree.create(8 * 1024 * 1024)
  })
  afterEach(async () => {
    await stage.remove()
  })

  it('holds every byte of a member, in order, however small or large its chunks (batched writes across the 1 MiB mark)', async () => {
    const bytes = randomBytes(2_600_000)
    await stage.addDir('A.app')
    await stage.addDir('A.app/Contents')
    await stage.addFile('A.app/Contents/MacOS/a', inPieces(bytes, [1, 7, 512, 65536, 3, 1_048_576, 1000]))
    await stage.addFile('A.app/Contents/Info.plist', inPieces(Buffer.from('<plist/>'), [2]))
    await stage.addFile('A.app/Contents/empty', inPieces(Buffer.alloc(0), [1]))
    assert.ok((await readFile(stage.path('A.app/Contents/MacOS/a'))).equals(bytes))
    assert.equal(await readFile(stage.path('A.app/Contents/Info.plist'), 'utf8'), '<plist/>')
    assert.equal((await readFile(stage.path('A.app/Contents/empty'))).length, 0)
  })

  it('still refuses a member under a link it staged, a member staged twice, and an item past its bound', async () => {
    await stage.addDir('A.app/Contents')
    await stage.addSymlink('A.app/Contents/Link', '/etc')
    await assert.rejects(stage.addFile('A.app/Contents/Link/passwd', inPieces(Buffer.from('x'), [1])), (e: unknown) => e instanceof FormatError && e.code === 'stage.through-link')
    await stage.addFile('A.app/Contents/x', inPieces(Buffer.from('x'), [1]))
    await assert.rejects(stage.addFile('A.app/Contents/x', inPieces(Buffer.from('y'), [1])), {code: 'EEXIST'})
    const small = await StagedTree.create(10)
    try {
      await assert.rejects(small.addFile('big', inPieces(Buffer.alloc(11), [4])), (e: unknown) => e instanceof FormatError && e.code === 'stage.too-large')
    } finally {
      await small.remove()
    }
  })
})
