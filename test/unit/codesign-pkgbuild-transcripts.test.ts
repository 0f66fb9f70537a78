import {strict as assert} from 'node:assert'
import {CodesignAdapter, CodesignError} from '../../src/adapters/codesign.js'
import {describeCodesignProblems, readCodesignVerifyOutput, type CodesignProblem} from '../../src/adapters/codesign-verify-output.js'
import {PkgbuildAdapter, PkgbuildError, type ComponentPackage} from '../../src/adapters/pkgbuild.js'
import {requireTranscript, transcriptBlocks, type TranscriptBlock} from '../support/macos-transcripts.js'
import {replayTool, type ReplayTool} from '../support/replay-tool.js'

const CODESIGN_FILE = '10-codesign-verify.txt'
const PKGBUILD_FILE = '12-pkgbuild-productbuild.txt'

/** What the tool printed in a block: no `$ ` command lines, no `...` elisions the poster made. */
function printed(block: TranscriptBlock): string {
  return block.lines.filter((l) => !l.startsWith('$ ') && l !== '...').join('\n') + '\n'
}

function block(ctx: Mocha.Context, file: string, id: string): TranscriptBlock {
  const blocks = requireTranscript(ctx, transcriptBlocks(file))
  const found = blocks.get(id)
  assert.ok(found, `${file} has no block ${id}`)
  return found
}

describe('codesign and pkgbuild adapters on real macOS output (macos-transcripts 10, 12)', () => {
  const tools: ReplayTool[] = []
  after(() => {
    for (const t of tools) t.remove()
  })

  /** The real adapter, pointed at an executable that answers `--verify` with the block on stderr (the transcript: "all on stderr"). */
  async function verifyReplaying(ctx: Mocha.Context, id: string, status: number, path: string) {
    const tool = replayTool({'--verify': [{stderr: printed(block(ctx, CODESIGN_FILE, id)), status}]})
    tools.push(tool)
    return new CodesignAdapter({executable: tool.path}).verify(path)
  }

  function only(problems: CodesignProblem[]): CodesignProblem {
    assert.equal(problems.length, 1, JSON.stringify(problems))
    return problems[0]!
  }

  it('A: exit 0 with "valid on disk" is a pass with no problems', async function () {
    const result = await verifyReplaying(this, 'A', 0, '/Applications/myApp.app')
    assert.equal(result.ok, true)
    assert.deepEqual(result.problems, [])
    assert.match(result.output, /valid on disk/)
  })

  it('B: a sealed resource, with the modified file and the nested bundle it sits in', async function () {
    const result = await verifyReplaying(this, 'B', 1, '/x/TextMate.app')
    assert.equal(result.ok, false)
    const p = only(result.problems)
    assert.equal(p.kind, 'sealed-resource')
    assert.deepEqual(p.files, [{change: 'modified', path: '…/PlugIns/Dialog.tmplugin/Contents/Resources/tm_dialog'}])
    assert.equal(p.subcomponent, '…/PlugIns/Dialog.tmplugin')
    assert.match(describeCodesignProblems(result.problems), /tm_dialog modified, in …\/PlugIns\/Dialog\.tmplugin\): .*sign the bundle again/)
  })

  it('C: the reason printed without a path still counts, with its modified profile', async function () {
    const p = only((await verifyReplaying(this, 'C', 1, '/x/zsign.app')).problems)
    assert.equal(p.kind, 'sealed-resource')
    assert.deepEqual(p.files, [{change: 'modified', path: '.../embedded.mobileprovision'}])
  })

  const single: [string, CodesignProblem['kind'], string, RegExp][] = [
    ['D', 'resources-expected', '/x/Tabby.app', /CodeResources/],
    ['E', 'resource-directory', '/x/tart.app', /CodeResources does not match/],
    ['G', 'sealed-resource', '/x/Payload/app.app', /after signing/],
    ['H', 'nested-code', '/x/Electron.app', /nested code first/],
    ['I', 'detritus', '/x/Recipe.app', /xattr -cr/],
    ['J', 'obsolete-envelope', '/x/Old.app', /too old/],
  ]
  for (const [id, kind, path, explained] of single) {
    it(`${id}: "${kind}" is read and explained`, async function () {
      const p = only((await verifyReplaying(this, id, 1, path)).problems)
      assert.equal(p.kind, kind)
      assert.match(p.explanation, explained)
    })
  }

  it('F: a modified executable in one slice of a universal binary names the architecture', async function () {
    const p = only((await verifyReplaying(this, 'F', 1, '/x/Payload/Incident.iOS.app')).problems)
    assert.equal(p.kind, 'code-modified')
    assert.equal(p.architecture, 'armv7')
    assert.match(describeCodesignProblems([p]), /in the armv7 slice/)
  })

  it('K: exit 2 (invalid arguments) is esdctl misusing codesign, not a verdict on the code', async function () {
    const k = block(this, CODESIGN_FILE, 'K')
    assert.match(k.heading, /\b2 invalid arguments/, 'the man page quote gives 2 for invalid arguments')
    const tool = replayTool({'--verify': [{stderr: 'codesign: unrecognized option\n', status: 2}]})
    tools.push(tool)
    await assert.rejects(new CodesignAdapter({executable: tool.path}).verify('/x/a.app'), (e: unknown) => e instanceof CodesignError && e.code === 2)
  })

  it('an unknown "<path>: <reason>" line is kept verbatim as kind other; chatter and other paths are not problems', () => {
    const problems = readCodesignVerifyOutput('/x/a.app: valid on disk\n/x/a.app: some new reason\n/y/b.app: unrelated\nfile modified: /x/a.app/f\n', '/x/a.app')
    assert.deepEqual(problems.map((p) => [p.kind, p.reason, p.files.length]), [['other', 'some new reason', 1]])
    assert.deepEqual(readCodesignVerifyOutput('file modified: /orphan\nIn architecture: x86_64\n'), [], 'detail lines before any reason belong to nothing')
  })

  describe('pkgbuild', () => {
    const pkg: ComponentPackage = {
      root: '/s/root', scripts: '/s/scripts', componentPlist: '/s/component.plist', identifier: 'com.example.thed.pkg',
      version: '1.0.0', installLocation: '/', sign: '/mac/developerID_installer.p12', output: '/s/thed-1.0.0.pkg',
    }

    it('12 A: a missing installer identity is named, with the typographic quotes pkgbuild prints, and what to do', async function () {
      const a = block(this, PKGBUILD_FILE, 'A')
      // Streams were merged by the poster's build tool; pkgbuild reports its progress and errors on stderr.
      const tool = replayTool({'--root': [{stderr: printed(a), status: 1}]})
      tools.push(tool)
      await assert.rejects(new PkgbuildAdapter({executable: tool.path}).build(pkg), (e: unknown) => {
        assert.ok(e instanceof PkgbuildError, String(e))
        assert.equal(e.code, 1)
        assert.equal(e.missingIdentity, '/mac/developerID_installer.p12')
        assert.match(e.message, /no signing identity “\/mac\/developerID_installer\.p12” in the keychain/)
        assert.match(e.message, /Developer ID Installer/)
        assert.doesNotMatch(e.message, /Adding component/, 'progress lines are not the error')
        return true
      })
    })

    it('12 D: the productsign wording with a keychain and the installer-vs-application hint reads the same way', async function () {
      const d = block(this, PKGBUILD_FILE, 'D')
      const tool = replayTool({'--root': [{stderr: printed(d), status: 1}]})
      tools.push(tool)
      await assert.rejects(new PkgbuildAdapter({executable: tool.path}).build(pkg), (e: unknown) => e instanceof PkgbuildError && e.missingIdentity === 'Apple Development: NAME (TEAMID)')
    })

    it('an error esdctl does not know keeps pkgbuild\'s own error lines', async () => {
      const tool = replayTool({'--root': [{stderr: 'pkgbuild: Adding component at x\npkgbuild: error: Invalid component property list\n', status: 1}]})
      tools.push(tool)
      await assert.rejects(new PkgbuildAdapter({executable: tool.path}).build(pkg), (e: unknown) => e instanceof PkgbuildError && e.missingIdentity === undefined && /Invalid component property list/.test(e.message) && !/Adding component/.test(e.message))
    })
  })
})
