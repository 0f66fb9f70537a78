// checkSeal driven directly with a seal and a listing of the bundle, so that every rule of the
// comparison and every text it prints is pinned (issue 14, area verify-checks). The bundles built
// end to end in verify-bundle and verify-nested-code exercise the same code more slowly.
import {strict as assert} from 'node:assert'
import {createHash} from 'node:crypto'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import type {CodeResources, SealEntry, SealRule} from '../../src/formats/code-resources.js'
import type {TreeEntry} from '../../src/io/bundle-tree.js'
import {checkSeal, type NestedLook, type SealContext} from '../../src/verify/check-seal.js'
import type {Finding} from '../../src/verify/finding.js'
import type {NestedIdentity} from '../../src/verify/sealed-requirement.js'

const RESEAL = 'Sign the bundle again after the last change to its contents (codesign --force … <name>.app), and ship it unmodified.'
const ADDED_FIX = 'Remove the file, or put it in the bundle before signing. Configuration that changes after signing belongs outside the bundle (for example /opt/<name>/etc).'
const CDHASH = Buffer.alloc(20, 0xab)
const IDENTITY: NestedIdentity = {identifier: 'com.example.kit', cdhashes: [CDHASH.toString('hex')], leafTeam: 'ESDTEST001', leafOids: [], trusted: true, appleSigned: false}

const rule = (source: string, opts: Partial<SealRule> = {}): SealRule => ({pattern: new RegExp(source), source, omit: false, optional: false, nested: false, weight: 1, ...opts})
/** The shape of codesign's rules2, reduced to what these tests need. */
const RULES = [
  rule('^.*'),
  rule('^Resources/', {weight: 20}),
  rule('^(Frameworks|MacOS|Helpers)/', {nested: true, weight: 10}),
  rule('^(.*/)?\\.DS_Store$', {omit: true, weight: 2000}),
]

const sha = (alg: 'sha1' | 'sha256', text: string) => createHash(alg).update(text).digest()
const file = (rel: string): TreeEntry => ({rel, kind: 'file', size: 1, mode: 0o644, what: 'a file'})
const link = (rel: string, linkTarget: string): TreeEntry => ({rel, kind: 'symlink', size: 1, mode: 0o777, linkTarget, what: 'a symbolic link'})
const dirEntry = (rel: string): TreeEntry => ({rel, kind: 'dir', size: 0, mode: 0o755, what: 'a directory'})

describe('verify checks: the bundle seal against the bundle on disk', () => {
  let contents: string
  before(async () => {
    contents = await mkdtemp(join(tmpdir(), 'esdctl-seal-'))
    for (const [rel, text] of [['Resources/a.txt', 'A'], ['Resources/b.txt', 'B'], ['Frameworks/tool.sh', 'echo']]) {
      await mkdir(dirname(join(contents, rel!)), {recursive: true})
      await writeFile(join(contents, rel!), text!)
    }
  })
  after(() => rm(contents, {recursive: true, force: true}))

  /** checkSeal over `tree` and `files`, with `looks` answering for nested code. */
  function judge(tree: TreeEntry[], files: Array<[string, SealEntry]>, opts: {rules?: SealRule[]; looks?: Record<string, NestedLook>} = {}): Promise<Finding[]> {
    const seal: CodeResources = {files: new Map(files), rules: opts.rules ?? RULES, version: 2}
    const ctx: SealContext = {
      contentsDir: contents,
      display: rel => `B.app/Contents/${rel}`,
      mainExecutable: 'MacOS/b',
      infoPlist: 'Info.plist',
      tree,
      seal,
      nested: async rel => {
        const look = opts.looks?.[rel]
        if (!look) throw new Error(`no look for ${rel}`)
        return look
      },
    }
    return checkSeal(ctx)
  }
  const brief = (fs: Finding[]) => fs.map(f => ({id: f.id, path: f.path, message: f.message, fix: f.fix}))
  const a: [string, SealEntry] = ['Resources/a.txt', {kind: 'file', sha256: sha('sha256', 'A'), optional: false}]

  it('an unchanged bundle has no finding', async () => {
    assert.deepEqual(await judge([file('Resources/a.txt')], [a]), [])
  })

  it('a sealed file missing is an error unless the seal marks it optional', async () => {
    const gone: [string, SealEntry] = ['Resources/gone.txt', {kind: 'file', sha256: sha('sha256', 'x'), optional: false}]
    assert.deepEqual(brief(await judge([file('Resources/a.txt')], [a, gone])), [
      {id: 'seal.missing', path: 'B.app/Contents/Resources/gone.txt', message: 'B.app/Contents/Resources/gone.txt is sealed by the signature but missing from the bundle', fix: RESEAL},
    ])
    assert.deepEqual(await judge([file('Resources/a.txt')], [a, ['Resources/gone.txt', {kind: 'file', sha256: sha('sha256', 'x'), optional: true}]]), [])
  })

  it('a file compares by SHA-256 when the seal has it, else by SHA-1', async () => {
    const tree = [file('Resources/a.txt')]
    assert.deepEqual(await judge(tree, [['Resources/a.txt', {kind: 'file', sha256: sha('sha256', 'A'), sha1: sha('sha1', 'other'), optional: false}]]), [])
    assert.deepEqual(await judge(tree, [['Resources/a.txt', {kind: 'file', sha1: sha('sha1', 'A'), optional: false}]]), [])
    const modified = [{id: 'seal.modified', path: 'B.app/Contents/Resources/a.txt', message: 'B.app/Contents/Resources/a.txt was modified after the bundle was signed (its hash no longer matches the seal)', fix: RESEAL}]
    assert.deepEqual(brief(await judge(tree, [['Resources/a.txt', {kind: 'file', sha256: sha('sha256', 'other'), sha1: sha('sha1', 'A'), optional: false}]])), modified)
    assert.deepEqual(brief(await judge(tree, [['Resources/a.txt', {kind: 'file', sha1: sha('sha1', 'other'), optional: false}]])), modified)
  })

  it('a file that became a link, and a link that became a file or points elsewhere', async () => {
    assert.deepEqual(brief(await judge([link('Resources/a.txt', 'b.txt')], [a])), [
      {id: 'seal.modified', path: 'B.app/Contents/Resources/a.txt', message: 'B.app/Contents/Resources/a.txt was a file when signed and is now a symbolic link', fix: RESEAL},
    ])
    const sealedLink: [string, SealEntry] = ['Resources/l', {kind: 'symlink', target: 'a.txt', optional: false}]
    assert.deepEqual(await judge([file('Resources/a.txt'), link('Resources/l', 'a.txt')], [a, sealedLink]), [])
    assert.deepEqual(brief(await judge([file('Resources/a.txt'), link('Resources/l', 'b.txt')], [a, sealedLink])), [
      {id: 'seal.modified', path: 'B.app/Contents/Resources/l', message: 'B.app/Contents/Resources/l points to "b.txt" but was sealed pointing to "a.txt"', fix: RESEAL},
    ])
    assert.deepEqual(brief(await judge([file('Resources/a.txt'), file('Resources/l')], [a, sealedLink])), [
      {id: 'seal.modified', path: 'B.app/Contents/Resources/l', message: 'B.app/Contents/Resources/l was a symbolic link when signed and is now a file', fix: RESEAL},
    ])
  })

  it('a plain file sealed where the rules reserve nested code, with the rule and a fix that names the file', async () => {
    const script: [string, SealEntry] = ['Frameworks/tool.sh', {kind: 'file', sha256: sha('sha256', 'echo'), optional: false}]
    assert.deepEqual(brief(await judge([file('Frameworks/tool.sh')], [script])), [{
      id: 'seal.plain-file-in-nested-location',
      path: 'B.app/Contents/Frameworks/tool.sh',
      message: 'B.app/Contents/Frameworks/tool.sh is sealed as a plain file (by hash) in a place the seal\'s rules reserve for nested code (rule "^(Frameworks|MacOS|Helpers)/"); codesign --verify --strict refuses the bundle ("code object is not signed at all … In subcomponent") and so does Gatekeeper',
      fix: 'Move tool.sh to Contents/Resources (data, scripts and configuration belong there) and read it from there, then sign the bundle again.',
    }])
    // The heavier Resources rule governs there: not a nested location.
    assert.deepEqual(await judge([file('Resources/a.txt')], [a], {rules: [...RULES, rule('^Resources/', {nested: true, weight: 5})]}), [])
  })

  describe('nested code', () => {
    const kit = 'Frameworks/Kit.framework'
    const sealed = (requirement?: string): [string, SealEntry] => [kit, requirement === undefined ? {kind: 'nested', cdhash: CDHASH, optional: false} : {kind: 'nested', cdhash: CDHASH, requirement, optional: false}]
    const tree = [dirEntry(kit), file(`${kit}/Versions/A/Kit`)]
    const code = (identity: Partial<NestedIdentity> = {}): Record<string, NestedLook> => ({[kit]: {kind: 'code', identity: {...IDENTITY, ...identity}}})
    const shown = `B.app/Contents/${kit}`

    it('with the sealed cdhash and meeting its requirement: no finding, and its files are not "added"', async () => {
      assert.deepEqual(await judge(tree, [sealed('identifier "com.example.kit" and anchor apple generic')], {looks: code()}), [])
      assert.deepEqual(await judge(tree, [sealed()], {looks: code()}), [])
      // A requirement esdctl does not evaluate is no finding either.
      assert.deepEqual(await judge(tree, [sealed('identifier "x" or identifier "y"')], {looks: code()}), [])
    })

    it('a file beside the nested bundle whose name only starts like it is added', async () => {
      const fs = await judge([...tree, file('Frameworks/Kit.framework2')], [sealed()], {looks: code()})
      assert.deepEqual(fs.map(f => f.path), ['B.app/Contents/Frameworks/Kit.framework2'])
    })

    it('another cdhash, or none readable', async () => {
      assert.deepEqual(brief(await judge(tree, [sealed()], {looks: code({cdhashes: ['cd'.repeat(20), 'ef'.repeat(20)]})})), [
        {id: 'seal.nested-modified', path: shown, message: `${shown} is nested code sealed with cdhash ${'ab'.repeat(20)} but its signature now has ${'cd'.repeat(20)}, ${'ef'.repeat(20)}`, fix: RESEAL},
      ])
      assert.deepEqual(brief(await judge(tree, [sealed()], {looks: code({cdhashes: []})})).map(f => f.message), [
        `${shown} is nested code sealed with cdhash ${'ab'.repeat(20)} but its signature now has no readable cdhash`,
      ])
    })

    it('a requirement unmet names the clauses, the sealed text and who signed it', async () => {
      const req = 'identifier "com.example.kit" and anchor apple generic and certificate leaf[subject.OU] = ESDTEST001'
      assert.deepEqual(brief(await judge(tree, [sealed(req)], {looks: code({identifier: 'com.example.other', leafTeam: 'OTHERTEAM9'})})), [{
        id: 'seal.nested-requirement-unmet', path: shown, fix: RESEAL,
        message: `${shown} does not satisfy the requirement its parent sealed for it (identifier "com.example.kit"; certificate leaf[subject.OU] = ESDTEST001): sealed "${req}", signed as com.example.other by team OTHERTEAM9`,
      }])
      assert.deepEqual(brief(await judge(tree, [sealed(req)], {looks: code({identifier: undefined, leafTeam: undefined})})).map(f => f.message), [
        `${shown} does not satisfy the requirement its parent sealed for it (identifier "com.example.kit"; certificate leaf[subject.OU] = ESDTEST001): sealed "${req}", signed as no identifier`,
      ])
    })

    it('not verified in depth, or not Mach-O, each says so with its fix', async () => {
      assert.deepEqual(brief(await judge(tree, [sealed()], {looks: {[kit]: {kind: 'not-verified', reason: 'it nests too deep'}}})), [{
        id: 'seal.nested-bundle-unchecked', path: shown, fix: 'Verify it on a Mac with codesign --verify --deep --strict.',
        message: `${shown} is sealed as nested code (cdhash ${'ab'.repeat(20)}) but it nests too deep, so esdctl does not verify it in depth`,
      }])
      assert.deepEqual(brief(await judge(tree, [sealed()], {looks: {[kit]: {kind: 'not-mach-o'}}})), [{
        id: 'seal.nested-code-in-xattrs', path: shown,
        message: `${shown} is nested code that is not Mach-O (a script or similar), sealed with cdhash ${'ab'.repeat(20)}; its signature lives in extended attributes (com.apple.cs.*), which git, zip and tar drop and esdctl cannot read: a copy that lost them is refused by macOS`,
        fix: 'Ship the bundle in a form that keeps extended attributes (a signed .pkg or .dmg, or ditto -c -k --keepParent for a zip), or move the script to Contents/Resources so the seal covers it by hash, then sign again.',
      }])
    })

    it('nested code that became a link is never followed', async () => {
      assert.deepEqual(brief(await judge([link(kit, '/tmp/elsewhere')], [sealed()])), [
        {id: 'seal.modified', path: shown, message: `${shown} was sealed as nested code but is now a symbolic link (to "/tmp/elsewhere")`, fix: RESEAL},
      ])
    })
  })

  describe('files added after signing', () => {
    const added = (rel: string) => ({id: 'seal.added', path: `B.app/Contents/${rel}`, message: `B.app/Contents/${rel} was added to the bundle after it was signed; macOS rejects the whole bundle`, fix: ADDED_FIX})

    it('a new file the rules would seal is reported; directories are not', async () => {
      assert.deepEqual(brief(await judge([file('Resources/a.txt'), file('Resources/new.txt'), dirEntry('Resources/sub')], [a])), [added('Resources/new.txt')])
    })

    it('the main executable, Info.plist, the seal, the stapled ticket and omitted files are not', async () => {
      const tree = [file('Resources/a.txt'), file('MacOS/b'), file('Info.plist'), file('_CodeSignature/CodeResources'), file('CodeResources'), file('Resources/.DS_Store')]
      assert.deepEqual(await judge(tree, [a]), [])
      // Lookalikes of each are added.
      const lookalikes = ['MacOS/b2', 'Info.plist2', '_CodeSignatureX', 'CodeResources2']
      assert.deepEqual(brief(await judge([...tree, ...lookalikes.map(file)], [a])), lookalikes.map(added))
    })

    it('files inside a folder that replaced a sealed file or link are added: only nested code covers what lies below it', async () => {
      const sealedLink: [string, SealEntry] = ['Resources/l', {kind: 'symlink', target: 'a.txt', optional: false}]
      const tree = [dirEntry('Resources/a.txt'), file('Resources/a.txt/x'), dirEntry('Resources/l'), file('Resources/l/y')]
      assert.deepEqual(brief(await judge(tree, [a, sealedLink])), [
        {id: 'seal.modified', path: 'B.app/Contents/Resources/a.txt', message: 'B.app/Contents/Resources/a.txt was a file when signed and is now a directory', fix: RESEAL},
        {id: 'seal.modified', path: 'B.app/Contents/Resources/l', message: 'B.app/Contents/Resources/l was a symbolic link when signed and is now a directory', fix: RESEAL},
        added('Resources/a.txt/x'),
        added('Resources/l/y'),
      ])
    })

    it('with rules, a file no rule covers is not sealed; without rules every file is', async () => {
      assert.deepEqual(await judge([file('Resources/a.txt'), file('Resources/new.txt')], [a], {rules: [rule('^MacOS/')]}), [])
      assert.deepEqual(brief(await judge([file('Resources/a.txt'), file('Resources/new.txt')], [a], {rules: []})), [added('Resources/new.txt')])
    })
  })
})
