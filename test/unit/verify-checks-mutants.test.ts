// Fast tests of the rules that decide a verify verdict, written so that changing any operator or
// constant of src/verify's checks makes one of them fail (issue 14, area verify-checks of
// stryker.config.mjs). The slower end-to-end files of the area run after this one.
import {strict as assert} from 'node:assert'
import {mkdir, mkdtemp, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {CertificateInfo} from '../../src/formats/certificate.js'
import {bundleShapeOf} from '../../src/verify/bundle-shape.js'
import {profileAllows, wildcardMatch} from '../../src/verify/entitlement-match.js'
import {
  APPLICATION_IDENTIFIER, claimedCapabilities, claimedRestricted, ENDPOINT_SECURITY, isRestrictedEntitlement, TEAM_IDENTIFIER,
} from '../../src/verify/restricted-entitlements.js'
import {judgeSealedRequirement, type NestedIdentity} from '../../src/verify/sealed-requirement.js'
import {signerKindOf} from '../../src/verify/signer-kind.js'

describe('verify checks: the rules behind a verdict', () => {
  describe('a profile entitlement value against a claimed one', () => {
    it('a lone * allows any string; a prefix* allows exactly the strings that start with the prefix', () => {
      assert.equal(wildcardMatch('*', 'anything'), true)
      assert.equal(wildcardMatch('TEAM.*', 'TEAM.com.example'), true)
      assert.equal(wildcardMatch('TEAM.*', 'TEAM.'), true)
      assert.equal(wildcardMatch('TEAM.*', 'OTHER.com.example'), false)
      assert.equal(wildcardMatch('TEAM.*', 'TEAM'), false)
      // Without a trailing * the pattern is a literal: a * elsewhere is no wildcard.
      assert.equal(wildcardMatch('TEAM.com', 'TEAM.com'), true)
      assert.equal(wildcardMatch('TEAM.com', 'TEAM.com.example'), false)
      assert.equal(wildcardMatch('*.example', 'TEAM.example'), false)
      // Only the lone * matches everything: an empty pattern matches only the empty value.
      assert.equal(wildcardMatch('', 'x'), false)
      assert.equal(wildcardMatch('', ''), true)
    })

    it('an absent value allows nothing, not even false', () => {
      assert.equal(profileAllows(undefined, false), false)
      assert.equal(profileAllows(undefined, 'x'), false)
    })

    it('a list allows a claim only when every claimed element is allowed by some element', () => {
      assert.equal(profileAllows(['TEAM.a', 'TEAM.b'], 'TEAM.b'), true)
      assert.equal(profileAllows(['TEAM.a', 'TEAM.b'], ['TEAM.a', 'TEAM.b']), true)
      assert.equal(profileAllows(['TEAM.a', 'TEAM.b'], ['TEAM.a', 'TEAM.c']), false)
      assert.equal(profileAllows(['TEAM.a'], 'TEAM.c'), false)
      assert.equal(profileAllows(['TEAM.*'], ['TEAM.x', 'TEAM.y']), true)
      assert.equal(profileAllows([], 'TEAM.a'), false)
    })

    it('a string allows a claimed list only when it matches each element, and never a non-string', () => {
      assert.equal(profileAllows('TEAM.*', ['TEAM.a', 'TEAM.b']), true)
      assert.equal(profileAllows('TEAM.*', ['TEAM.a', 'OTHER.b']), false)
      assert.equal(profileAllows('TEAM.a', 'TEAM.a'), true)
      assert.equal(profileAllows('TEAM.a', 'TEAM.b'), false)
      assert.equal(profileAllows('*', true), false)
      assert.equal(profileAllows('1', 1), false)
    })

    it('a boolean or number allows only the identical value', () => {
      assert.equal(profileAllows(true, true), true)
      assert.equal(profileAllows(true, false), false)
      assert.equal(profileAllows(false, true), false)
      assert.equal(profileAllows(1, 1), true)
      assert.equal(profileAllows(1, 2), false)
    })
  })

  describe('which entitlements need a profile', () => {
    it('com.apple.developer.*, the application identifier and keychain groups are restricted; com.apple.security.* is not', () => {
      assert.equal(isRestrictedEntitlement(ENDPOINT_SECURITY), true)
      assert.equal(isRestrictedEntitlement('com.apple.developer.'), true)
      assert.equal(isRestrictedEntitlement(APPLICATION_IDENTIFIER), true)
      assert.equal(isRestrictedEntitlement('keychain-access-groups'), true)
      assert.equal(isRestrictedEntitlement('com.apple.security.get-task-allow'), false)
      assert.equal(isRestrictedEntitlement('com.apple.developerx'), false)
      assert.equal(isRestrictedEntitlement('x.com.apple.developer.y'), false)
      assert.equal(isRestrictedEntitlement(''), false)
    })

    it('a restricted key claimed as false or an empty list claims nothing; true, a string or a list does', () => {
      const ents = {
        [ENDPOINT_SECURITY]: true,
        'com.apple.developer.off': false,
        'com.apple.developer.none': [],
        'com.apple.developer.list': ['a'],
        'com.apple.developer.text': 'x',
        'com.apple.developer.zero': 0,
        'com.apple.security.app-sandbox': true,
      }
      assert.deepEqual(claimedRestricted(ents), [ENDPOINT_SECURITY, 'com.apple.developer.list', 'com.apple.developer.text', 'com.apple.developer.zero'])
    })

    it('capabilities are the restricted claims other than the identity pair', () => {
      const ents = {[APPLICATION_IDENTIFIER]: 'T.x', [TEAM_IDENTIFIER]: 'T', [ENDPOINT_SECURITY]: true, 'keychain-access-groups': ['T.x']}
      assert.deepEqual(claimedCapabilities(ents), [ENDPOINT_SECURITY, 'keychain-access-groups'])
      assert.deepEqual(claimedCapabilities({[APPLICATION_IDENTIFIER]: 'T.x', [TEAM_IDENTIFIER]: 'T'}), [])
    })
  })

  describe('the signer kind of a leaf certificate', () => {
    const leaf = (role: string) => ({role}) as unknown as CertificateInfo
    it('keeps the roles Apple issues and calls every other leaf, or none, "other"', () => {
      for (const role of ['apple', 'developer-id', 'apple-development', 'apple-distribution']) assert.equal(signerKindOf(leaf(role)), role)
      assert.equal(signerKindOf(leaf('other')), 'other')
      assert.equal(signerKindOf(leaf('unknown')), 'other')
      assert.equal(signerKindOf(undefined), 'other')
    })
  })

  describe('a sealed designated requirement', () => {
    const id: NestedIdentity = {
      identifier: 'com.example.kit',
      cdhashes: ['aa'.repeat(20)],
      leafTeam: 'ESDTEST001',
      leafOids: ['1.2.840.113635.100.6.1.13'],
      trusted: true,
      appleSigned: false,
    }
    const met = {evaluated: true, unmet: []}
    const judge = (text: string, who: NestedIdentity = id) => judgeSealedRequirement(text, who)

    it('reads a text of exactly 4096 characters and refuses one longer', () => {
      const pad = (n: number) => `identifier "com.example.kit"${' '.repeat(n - 28)}`
      assert.equal(pad(4096).length, 4096)
      assert.deepEqual(judge(pad(4096)), met)
      assert.deepEqual(judge(pad(4097)), {evaluated: false})
    })

    it('drops comments and the designated => prefix, with or without spaces', () => {
      assert.deepEqual(judge('designated => identifier "com.example.kit"'), met)
      assert.deepEqual(judge('designated=>identifier "com.example.kit"'), met)
      assert.deepEqual(judge('  designated => identifier "com.example.kit"'), met)
      assert.deepEqual(judge('/* c */ designated => identifier "com.example.kit"'), met)
      // A comment counts as a space: it may be all that separates two words.
      assert.deepEqual(judge('identifier "com.example.kit" and/* c */anchor apple generic'), met)
      assert.deepEqual(judge('  /* c */ identifier "com.example.kit" /* d */ and /* e */ anchor apple generic  '), met)
      // The prefix is removed only at the start; elsewhere the clause is not understood.
      assert.deepEqual(judge('identifier "com.example.kit" and designated => anchor apple generic'), {evaluated: false})
      // A comment ends at its first */: the text after it is judged.
      assert.deepEqual(judge('/* a */ identifier "com.example.other" /* b */'), {evaluated: true, unmet: ['identifier "com.example.other"']})
    })

    it('refuses to guess at or, ||, ! and parentheses, but not at words that contain "or"', () => {
      for (const text of ['identifier a || identifier b', 'identifier a or identifier b', '!identifier a', 'identifier (a)', 'identifier a)']) {
        assert.deepEqual(judge(text), {evaluated: false}, text)
      }
      assert.deepEqual(judge('identifier "com.example.orbit"', {...id, identifier: 'com.example.orbit'}), met)
      assert.deepEqual(judge('identifier orca', {...id, identifier: 'orca'}), met)
    })

    it('splits on and / && with any spacing, and not inside a word', () => {
      assert.deepEqual(judge('identifier "com.example.kit"&&anchor apple generic'), met)
      assert.deepEqual(judge('identifier "com.example.kit"  &&  anchor apple generic'), met)
      assert.deepEqual(judge('identifier "com.example.kit"   and   anchor apple generic'), met)
      assert.deepEqual(judge('identifier com.example.band', {...id, identifier: 'com.example.band'}), met)
      assert.deepEqual(judge('identifier "com.example.kit" and anchor apple generic', {...id, trusted: false}), {evaluated: true, unmet: ['anchor apple generic']})
    })

    it('one clause it does not understand leaves the whole requirement unjudged, even after an unmet one', () => {
      assert.deepEqual(judge('identifier "x" and info[CFBundleVersion] = "1"'), {evaluated: false})
      assert.deepEqual(judge('anchor apple generic and identifier'), {evaluated: false})
    })

    it('identifier: quoted with escapes, bare, or with =', () => {
      assert.deepEqual(judge('identifier com.example.kit'), met)
      assert.deepEqual(judge('identifier = com.example.kit'), met)
      assert.deepEqual(judge('identifier="com.example.kit"'), met)
      assert.deepEqual(judge('identifier "a\\"b"', {...id, identifier: 'a"b'}), met)
      assert.deepEqual(judge('identifier "a\\\\b"', {...id, identifier: 'a\\b'}), met)
      assert.deepEqual(judge('identifier "com.example.kit'), {evaluated: true, unmet: ['identifier "com.example.kit']})
      assert.deepEqual(judge('identifier com.example.kitx'), {evaluated: true, unmet: ['identifier com.example.kitx']})
      assert.deepEqual(judge('identifier "a b"', {...id, identifier: 'a b'}), met)
      // Quotes are removed only when they open and close the value.
      assert.deepEqual(judge('identifier "com.example.kit', {...id, identifier: 'com.example.ki'}), {evaluated: true, unmet: ['identifier "com.example.kit']})
      assert.deepEqual(judge('identifier com.example.kit"', {...id, identifier: 'om.example.kit'}), {evaluated: true, unmet: ['identifier com.example.kit"']})
      assert.deepEqual(judge('identifier a b', {...id, identifier: 'a'}), {evaluated: false})
      assert.deepEqual(judge('xidentifier com.example.kit'), {evaluated: false})
      assert.deepEqual(judge('identifier "com.example.kit"', {...id, identifier: undefined}), {evaluated: true, unmet: ['identifier "com.example.kit"']})
    })

    it('cdhash: hex in any case against the code\'s cdhashes; anything else is not understood', () => {
      assert.deepEqual(judge(`cdhash H"${'Aa'.repeat(20)}"`), met)
      assert.deepEqual(judge(`cdhash   H"${'aa'.repeat(20)}"`), met)
      assert.deepEqual(judge(`cdhash H"${'aa'.repeat(19)}"`), {evaluated: true, unmet: [`cdhash H"${'aa'.repeat(19)}"`]})
      assert.deepEqual(judge('cdhash H"xyz"'), {evaluated: false})
      assert.deepEqual(judge('cdhash H""'), {evaluated: false})
      assert.deepEqual(judge(`cdhash H"${'aa'.repeat(20)}" x`), {evaluated: false})
      assert.deepEqual(judge(`x cdhash H"${'aa'.repeat(20)}"`), {evaluated: false})
    })

    it('anchor apple generic needs the chain; anchor apple also Apple\'s own leaf', () => {
      assert.deepEqual(judge('anchor apple generic'), met)
      assert.deepEqual(judge('anchor apple generic', {...id, trusted: false}), {evaluated: true, unmet: ['anchor apple generic']})
      assert.deepEqual(judge('anchor apple', {...id, appleSigned: true}), met)
      assert.deepEqual(judge('anchor apple', {...id, appleSigned: false}), {evaluated: true, unmet: ['anchor apple']})
      assert.deepEqual(judge('anchor apple', {...id, appleSigned: true, trusted: false}), {evaluated: true, unmet: ['anchor apple']})
    })

    it('the leaf\'s subject OU, quoted or bare, with any spacing', () => {
      assert.deepEqual(judge('certificate leaf[subject.OU] = ESDTEST001'), met)
      assert.deepEqual(judge('certificate  leaf [ subject.OU ] = "ESDTEST001"'), met)
      assert.deepEqual(judge('certificate leaf[subject.OU]=ESDTEST001'), met)
      assert.deepEqual(judge('certificate leaf[subject.OU] = "Team With Spaces"', {...id, leafTeam: 'Team With Spaces'}), met)
      assert.deepEqual(judge('certificate leaf[subject.OU] = "a\\"b"', {...id, leafTeam: 'a"b'}), met)
      assert.deepEqual(judge('certificate leaf[subject.OU] = OTHERTEAM9'), {evaluated: true, unmet: ['certificate leaf[subject.OU] = OTHERTEAM9']})
      assert.deepEqual(judge('certificate leaf[subject.OU] = ESDTEST001', {...id, leafTeam: undefined}), {evaluated: true, unmet: ['certificate leaf[subject.OU] = ESDTEST001']})
      assert.deepEqual(judge('certificate leaf[subject.OU] = '), {evaluated: false})
      assert.deepEqual(judge('certificate leaf[subject.CN] = ESDTEST001'), {evaluated: false})
      assert.deepEqual(judge('xcertificate leaf[subject.OU] = ESDTEST001'), {evaluated: false})
      assert.deepEqual(judge('certificate leaf[subject.OU] = ESDTEST001 x'), {evaluated: false})
    })

    it('a leaf marker, with or without exists, is met only by an extension the leaf carries', () => {
      assert.deepEqual(judge('certificate leaf[field.1.2.840.113635.100.6.1.13] exists'), met)
      assert.deepEqual(judge('certificate leaf [ field.1.2.840.113635.100.6.1.13 ]'), met)
      assert.deepEqual(judge('certificate leaf[field.1.2.840.113635.100.6.1.13]   exists'), met)
      assert.deepEqual(judge('certificate  leaf[field.1.2.840.113635.100.6.1.13]'), met)
      assert.deepEqual(judge('certificate leaf[field.1.2.840.113635.100.6.1.12] exists'), {evaluated: true, unmet: ['certificate leaf[field.1.2.840.113635.100.6.1.12] exists']})
      assert.deepEqual(judge('certificate leaf[field.1.2.x]'), {evaluated: false})
      assert.deepEqual(judge('certificate leaf[field.] exists'), {evaluated: false})
      assert.deepEqual(judge('certificate leaf[field.1.2] existsx'), {evaluated: false})
      assert.deepEqual(judge('xcertificate leaf[field.1.2]'), {evaluated: false})
    })

    it('an intermediate marker rests on the chain to the pinned anchor', () => {
      assert.deepEqual(judge('certificate 1[field.1.2.840.113635.100.6.2.6] exists'), met)
      assert.deepEqual(judge('certificate  1 [ field.1.2.840.113635.100.6.2.6 ]'), met)
      assert.deepEqual(judge('certificate 1[field.1.2.840.113635.100.6.2.6]   exists'), met)
      assert.deepEqual(judge('certificate 1[field.1.2.840.113635.100.6.2.6]', {...id, trusted: false}), {evaluated: true, unmet: ['certificate 1[field.1.2.840.113635.100.6.2.6]']})
      assert.deepEqual(judge('certificate 1[field.1.2.x]'), {evaluated: false})
      assert.deepEqual(judge('certificate 1[field.] exists'), {evaluated: false})
      assert.deepEqual(judge('certificate 2[field.1.2] exists'), {evaluated: false})
      assert.deepEqual(judge('xcertificate 1[field.1.2]'), {evaluated: false})
      assert.deepEqual(judge('certificate 1[field.1.2] existsx'), {evaluated: false})
    })
  })
  describe('the shape of a bundle', () => {
    let root: string
    let n = 0
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'esdctl-shape-'))
    })
    after(() => rm(root, {recursive: true, force: true}))

    /** A fresh directory holding `dirs`, `files` and `links` (path → target). */
    async function bundle(layout: {dirs?: string[]; files?: string[]; links?: Record<string, string>}): Promise<string> {
      const dir = join(root, `b${n++}`)
      await mkdir(dir)
      for (const d of layout.dirs ?? []) await mkdir(join(dir, d), {recursive: true})
      for (const f of layout.files ?? []) await writeFile(join(dir, f), '')
      for (const [at, target] of Object.entries(layout.links ?? {})) await symlink(target, join(dir, at))
      return dir
    }

    it('deep: a Contents directory, never a link to one', async () => {
      const deep = await bundle({dirs: ['Contents']})
      assert.deepEqual(await bundleShapeOf(deep), {kind: 'deep', bundle: deep, contentDir: join(deep, 'Contents'), infoPlist: 'Info.plist', executableDir: 'MacOS/'})
      assert.equal(await bundleShapeOf(await bundle({dirs: ['elsewhere'], links: {Contents: 'elsewhere'}})), undefined)
      assert.equal((await bundleShapeOf(await bundle({files: ['Contents', 'Info.plist']})))?.kind, 'shallow')
    })

    it('framework: Versions/Current naming a sibling version directory', async () => {
      const fw = await bundle({dirs: ['Versions/A', 'Versions/B'], links: {'Versions/Current': 'B'}})
      assert.deepEqual(await bundleShapeOf(fw), {kind: 'framework', bundle: fw, contentDir: join(fw, 'Versions', 'B'), infoPlist: 'Resources/Info.plist', executableDir: ''})
    })

    it('framework: a Current link leading anywhere but a sibling directory chooses nothing', async () => {
      for (const target of ['../A', '.', '..', 'missing', 'file']) {
        const dir = await bundle({dirs: ['Versions/A', 'A'], files: ['Versions/file'], links: {'Versions/Current': target}})
        assert.equal(await bundleShapeOf(dir), undefined, target)
      }
    })

    it('framework: without Current, the one version directory there is; two or none choose nothing', async () => {
      const one = await bundle({dirs: ['Versions/A'], files: ['Versions/notes']})
      assert.equal((await bundleShapeOf(one))?.contentDir, join(one, 'Versions', 'A'))
      assert.equal(await bundleShapeOf(await bundle({dirs: ['Versions/A', 'Versions/B']})), undefined)
      assert.equal(await bundleShapeOf(await bundle({dirs: ['Versions']})), undefined)
      assert.equal(await bundleShapeOf(await bundle({files: ['Versions']})), undefined)
    })

    it('shallow: an Info.plist file or a _CodeSignature directory at the top; else no bundle', async () => {
      const plist = await bundle({files: ['Info.plist']})
      assert.deepEqual(await bundleShapeOf(plist), {kind: 'shallow', bundle: plist, contentDir: plist, infoPlist: 'Info.plist', executableDir: ''})
      assert.equal((await bundleShapeOf(await bundle({dirs: ['_CodeSignature']})))?.kind, 'shallow')
      assert.equal(await bundleShapeOf(await bundle({dirs: ['Info.plist'], files: ['_CodeSignature']})), undefined)
      assert.equal(await bundleShapeOf(await bundle({})), undefined)
      assert.equal(await bundleShapeOf(join(root, 'absent')), undefined)
    })
  })
})
