import {strict as assert} from 'node:assert'
import {existsSync} from 'node:fs'
import {cp, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {execa} from 'execa'
import * as tar from 'tar'
import {NODE_PINS} from '../../scripts/dist-darwin/node-pins.js'
import {bundledNodeProblems} from '../../src/payload-build/bundled-node-check.js'
import {DARWIN_ARCHES, DIST_PATHS, distDirName, MACHO_ARCH, NODE_TEAM_ID} from '../../src/payload-build/esdctl-dist-layout.js'
import {darwinDist} from '../support/darwin-dist.js'
import {REPO_ROOT} from '../support/real-artifacts.js'
import type {DistResult} from '../../scripts/dist-darwin/build-dist.js'
import {commandLine} from '../../src/payload-build/pkg-commands.js'

const VERSION = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {version: string}).version
const LOCK = JSON.parse(await readFile(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dev?: boolean}>}
const RUN_JS = join(REPO_ROOT, 'bin', 'run.js')

/**
 * One pass over a tarball: every entry (path → {type, mode}) is listed, and the entries `keep`
 * names are extracted into `into`.
 */
async function readTarball(file: string, into: string, keep: string[]): Promise<Map<string, {type: string; mode: number}>> {
  const entries = new Map<string, {type: string; mode: number}>()
  await mkdir(into, {recursive: true})
  await tar.x({file, cwd: into, filter: (path, e) => {
    if ('type' in e) entries.set(path.replace(/\/$/, ''), {type: e.type, mode: (e.mode ?? 0) & 0o7777})
    return keep.includes(path)
  }})
  return entries
}

describe('npm run dist:darwin (the self-contained esdctl for Macs)', function () {
  this.timeout(600_000)
  let dist: DistResult
  let scratch: string
  before(async () => {
    dist = await darwinDist()
    scratch = await mkdtemp(join(tmpdir(), 'esdctl-dist-test-'))
  })
  after(() => rm(scratch, {recursive: true, force: true}))

  it('writes esdctl-<version>-darwin-arm64.tar.gz and …-darwin-x64.tar.gz, and a pkgbuild folder for each', async () => {
    assert.equal(dist.version, VERSION)
    assert.deepEqual((await readdir(dist.out)).sort(), [`esdctl-${VERSION}-darwin-arm64.tar.gz`, `esdctl-${VERSION}-darwin-x64.tar.gz`, 'pkg-arm64', 'pkg-x64'])
    assert.deepEqual(dist.artifacts.map(a => a.arch), [...DARWIN_ARCHES])
  })

  for (const arch of DARWIN_ARCHES) {
    describe(`the ${arch} tarball`, () => {
      let entries: Map<string, {type: string; mode: number}>
      let extracted: string
      const top = (): string => distDirName(VERSION, arch)
      before(async () => {
        extracted = join(scratch, arch)
        entries = await readTarball(dist.artifacts.find(a => a.arch === arch)!.tarball, extracted, [`${top()}/${DIST_PATHS.info}`, `${top()}/${DIST_PATHS.node}`])
      })

      it('holds one top directory with the launcher, run.js, compiled code, templates, schemas, man page, Node and its licence', () => {
        for (const path of entries.keys()) assert.ok(path === top() || path.startsWith(top() + '/'), `${path} is outside ${top()}/`)
        const must: Array<[string, number]> = [
          [DIST_PATHS.launcher, 0o755], [DIST_PATHS.runJs, 0o755], [DIST_PATHS.node, 0o755], [DIST_PATHS.nodeLicense, 0o644], [DIST_PATHS.info, 0o644],
          ['package.json', 0o644], ['oclif.manifest.json', 0o644], ['dist/src/commands/verify.js', 0o644], ['dist/src/commands/install.js', 0o644],
          ['templates/pkg/postinstall', 0o644], ['templates/launchd.plist.xml', 0o644], ['schemas/esdctl-manifest.schema.json', 0o644], ['man/esdctl.1', 0o644],
        ]
        for (const [path, mode] of must) {
          const e = entries.get(`${top()}/${path}`)
          assert.ok(e, `${path} is missing`)
          assert.equal(e.type, 'File', path)
          assert.equal(e.mode.toString(8), mode.toString(8), `${path} mode`)
        }
        for (const absent of ['dist/test', 'dist/bench', 'dist/scripts', 'src', 'test', 'node_modules/.bin']) assert.ok(!entries.has(`${top()}/${absent}`), `${absent} is not shipped`)
        for (const [path, e] of entries) {
          assert.equal(e.mode & 0o7022, 0, `${path} is writable by others or set-id`)
          assert.ok(['File', 'Directory'].includes(e.type), `${path} is a ${e.type}`)
        }
      })

      it('holds exactly the locked production dependencies, and no development one', () => {
        const prod = Object.entries(LOCK.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true).map(([k]) => k)
        const dev = Object.entries(LOCK.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev === true).map(([k]) => k)
        assert.ok(prod.length > 50 && dev.length > 50, 'the lockfile has both kinds')
        for (const k of prod) assert.ok(entries.has(`${top()}/${k}/package.json`), `production dependency ${k} is missing`)
        for (const k of dev) assert.ok(!entries.has(`${top()}/${k}`), `development dependency ${k} is shipped`)
      })

      it('carries the lock\'s native addon built for this processor, and no other platform\'s native code', () => {
        const addons = [...entries.keys()].filter(k => k.endsWith('.node'))
        assert.ok(addons.some(k => k.startsWith(`${top()}/node_modules/fs-ext-extra-prebuilt/binaries/fs-ext-darwin-${arch}-node-`)), `no darwin-${arch} build of the lock's addon among ${addons.join(', ')}`)
        assert.deepEqual(addons.filter(k => !k.includes(`-darwin-${arch}-`)), [], 'other platforms\' addons are shipped')
      })

      it(`names the Node it carries: ${NODE_PINS[arch].package}@${NODE_PINS[arch].version}, with its pinned integrity`, async () => {
        const info = JSON.parse(await readFile(join(extracted, top(), DIST_PATHS.info), 'utf8'))
        const pin = NODE_PINS[arch]
        assert.deepEqual(info, {name: 'esdctl', version: VERSION, platform: 'darwin', arch, node: {package: pin.package, version: pin.version, integrity: pin.integrity}})
      })

      it('carries a Node that esdctl verify passes: Developer ID, Node.js Foundation, team HX7739G8FX', async () => {
        const r = await execa(process.execPath, [RUN_JS, 'verify', '--json', join(extracted, top(), DIST_PATHS.node)], {reject: false})
        assert.equal(r.exitCode, 0, r.stdout + r.stderr)
        const report = JSON.parse(r.stdout)
        assert.equal(report.ok, true)
        assert.equal(report.kind, 'macho')
        assert.deepEqual(report.slices.map((s: {arch: string}) => s.arch), [arch === 'arm64' ? 'arm64' : 'x86_64'])
        for (const s of report.slices) {
          assert.equal(s.signer, 'developer-id')
          assert.equal(s.teamId, NODE_TEAM_ID)
          assert.equal(s.signerName, `Developer ID Application: Node.js Foundation (${NODE_TEAM_ID})`)
          assert.ok(s.flags.includes('runtime'), 'hardened runtime')
        }
      })

      it('is refused, by the check the build and payload --with-esdctl run, as the Node of the other processor', async () => {
        const other = arch === 'arm64' ? 'x64' : 'arm64'
        assert.deepEqual(await bundledNodeProblems(join(extracted, top(), DIST_PATHS.node), arch), [])
        const problems = await bundledNodeProblems(join(extracted, top(), DIST_PATHS.node), other)
        assert.deepEqual(problems, [`holds ${MACHO_ARCH[arch]} code, not ${MACHO_ARCH[other]} (${other})`])
      })
    })
  }

  describe('the pkgbuild inputs', () => {
    for (const arch of DARWIN_ARCHES) {
      it(`${arch}: a root holding only /usr/local/esdctl/<version>/, with the modes pkgbuild records and root:wheel ownership (--ownership recommended)`, async () => {
        const pkg = dist.artifacts.find(a => a.arch === arch)!.pkg
        assert.equal(pkg.installDir, `/usr/local/esdctl/${VERSION}`)
        assert.deepEqual(await readdir(pkg.dir), ['PACKAGING.txt', 'root', 'scripts'].sort())
        const seen: string[] = []
        const walk = async (dir: string): Promise<void> => {
          for (const name of await readdir(dir)) {
            const path = join(dir, name)
            const rel = relative(pkg.root, path)
            const info = await lstat(path)
            seen.push(rel)
            assert.ok(info.isDirectory() || info.isFile(), `${rel} is neither a file nor a directory`)
            const mode = info.mode & 0o7777
            if (info.isDirectory()) {
              assert.equal(mode, 0o755, `${rel} dir mode ${mode.toString(8)}`)
              await walk(path)
            } else {
              assert.ok(mode === 0o644 || mode === 0o755, `${rel} file mode ${mode.toString(8)}`)
            }
          }
        }
        await walk(pkg.root)
        for (const rel of seen) assert.ok(`usr/local/esdctl/${VERSION}`.startsWith(rel) || rel.startsWith(`usr/local/esdctl/${VERSION}/`), `${rel} is outside usr/local/esdctl/${VERSION}`)
        assert.ok(!seen.includes('usr/local/bin'), 'the /usr/local/bin link is made by postinstall, not shipped')
        for (const exe of [DIST_PATHS.launcher, DIST_PATHS.node]) assert.equal((await lstat(join(pkg.root, 'usr/local/esdctl', VERSION, exe))).mode & 0o777, 0o755, exe)
        assert.deepEqual(await readdir(pkg.scripts), ['postinstall'])
        assert.equal((await lstat(join(pkg.scripts, 'postinstall'))).mode & 0o777, 0o755)
        assert.deepEqual(pkg.commands.pkgbuild, ['pkgbuild', '--root', 'root', '--scripts', 'scripts', '--identifier', 'org.esdctl.esdctl', '--version', VERSION, '--install-location', '/', '--ownership', 'recommended', `esdctl-${VERSION}-darwin-${arch}-component.pkg`])
        assert.deepEqual(pkg.commands.productbuild, ['productbuild', '--package', `esdctl-${VERSION}-darwin-${arch}-component.pkg`, '--sign', '$INSTALLER_IDENTITY', '--timestamp', `esdctl-${VERSION}-darwin-${arch}.pkg`])
        const text = await readFile(pkg.instructions, 'utf8')
        assert.ok(text.includes(`pkgbuild --root root --scripts scripts --identifier org.esdctl.esdctl --version ${VERSION} --install-location / --ownership recommended esdctl-${VERSION}-darwin-${arch}-component.pkg`), text)
        assert.ok(text.includes(`productbuild --package esdctl-${VERSION}-darwin-${arch}-component.pkg --sign "$INSTALLER_IDENTITY" --timestamp esdctl-${VERSION}-darwin-${arch}.pkg`), text)
      })
    }

    describe('postinstall, run as Installer runs it against a target volume', () => {
      let volume: string
      const pkg = () => dist.artifacts.find(a => a.arch === 'arm64')!.pkg
      /** Lays the pkg root onto a fresh volume as Installer would, the Node being `node`. */
      async function installRoot(node: string): Promise<string> {
        volume = await mkdtemp(join(scratch, 'volume-'))
        // All but the 100 MB darwin Node, which stands in as `node` (Installer would lay it as is).
        const darwinNode = join(pkg().root, 'usr/local/esdctl', VERSION, DIST_PATHS.node)
        await cp(join(pkg().root, 'usr'), join(volume, 'usr'), {recursive: true, verbatimSymlinks: true, filter: (from) => from !== darwinNode})
        await symlink(node, join(volume, 'usr/local/esdctl', VERSION, DIST_PATHS.node))
        return volume
      }
      const postinstall = (vol: string) => execa('/bin/sh', [join(pkg().scripts, 'postinstall'), '/tmp/esdctl.pkg', '/', vol], {reject: false, env: {PATH: '/tmp/evil', NODE_OPTIONS: '--require=/tmp/evil.js'}, extendEnv: false})

      it('checks that esdctl runs, then links /usr/local/bin/esdctl to the versioned launcher, also over a previous link', async () => {
        const vol = await installRoot(process.execPath)
        const first = await postinstall(vol)
        assert.equal(first.exitCode, 0, first.stderr)
        assert.equal(await readlink(join(vol, 'usr/local/bin/esdctl')), `/usr/local/esdctl/${VERSION}/bin/esdctl`)
        assert.equal((await lstat(join(vol, 'usr/local/bin'))).mode & 0o777, 0o755)
        await rm(join(vol, 'usr/local/bin/esdctl'))
        await symlink('/usr/local/esdctl/0.0.1/bin/esdctl', join(vol, 'usr/local/bin/esdctl'))
        const again = await postinstall(vol)
        assert.equal(again.exitCode, 0, again.stderr)
        assert.equal(await readlink(join(vol, 'usr/local/bin/esdctl')), `/usr/local/esdctl/${VERSION}/bin/esdctl`)
      })

      it('fails, linking nothing, when the esdctl it installed cannot run on this machine', async () => {
        const vol = await installRoot('/nonexistent/node')
        const r = await postinstall(vol)
        assert.equal(r.exitCode, 1)
        assert.match(r.stderr, /does not run on this Mac/)
        assert.equal(existsSync(join(vol, 'usr/local/bin/esdctl')), false)
      })

      it('refuses to replace a directory standing where the link goes', async () => {
        const vol = await installRoot(process.execPath)
        await mkdir(join(vol, 'usr/local/bin/esdctl'), {recursive: true})
        const r = await postinstall(vol)
        assert.equal(r.exitCode, 1)
        assert.match(r.stderr, /exists and is neither a file nor a link/)
      })
    })
  })

  it('README: "Install on a Mac" right after the two set-up commands, with the command lines the build writes', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8')
    const setUp = /## Set up and test\n([\s\S]*?)\n(## [^\n]+)/.exec(readme)
    assert.ok(setUp, 'the set-up section')
    const blocks = [...setUp[1]!.matchAll(/```sh\n([\s\S]*?)```/g)].map(m => m[1]!.trim().split('\n').map(l => l.split('#')[0]!.trim()))
    assert.deepEqual(blocks, [['npm ci', 'npm test'], ['npm run demo']], 'exactly the two set-up commands, and next to them the one that runs the main job on something real')
    assert.equal(setUp[2], '## Install on a Mac')
    const pkg = dist.artifacts.find(a => a.arch === 'arm64')!.pkg
    for (const key of ['pkgbuild', 'productbuild'] as const) assert.ok(readme.includes(`\n${commandLine(pkg.commands[key])}\n`), `README shows ${commandLine(pkg.commands[key])}`)
    assert.ok(readme.includes(NODE_PINS.arm64.version), 'README names the Node version shipped')
  })

  describe('the launcher (bin/esdctl), with a Linux Node in place of the darwin one', () => {
    let tree: string
    let marker: string
    let preload: string
    before(async () => {
      const dir = join(scratch, 'launcher')
      await mkdir(dir)
      // Everything but the 100 MB darwin Node, which is replaced below anyway.
      await tar.x({file: dist.artifacts.find(a => a.arch === 'arm64')!.tarball, cwd: dir, filter: (p) => p !== `${distDirName(VERSION, 'arm64')}/${DIST_PATHS.node}`})
      tree = join(dir, distDirName(VERSION, 'arm64'))
      await symlink(process.execPath, join(tree, DIST_PATHS.node))
      marker = join(scratch, 'PRELOAD-RAN')
      preload = join(scratch, 'preload.cjs')
      await writeFile(preload, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid))\n`)
    })
    beforeEach(() => rm(marker, {force: true}))

    const hostile = (): Record<string, string> => ({
      NODE_OPTIONS: `--require=${preload}`, NODE_PATH: '/tmp/evil', DYLD_INSERT_LIBRARIES: '/tmp/evil.dylib', DYLD_LIBRARY_PATH: '/tmp/evil',
      PATH: '/tmp/evil', HOME: '/var/root', LANG: 'C', SOMETHING_ELSE: 'x',
    })

    it('control: Node run directly loads a NODE_OPTIONS preload before esdctl\'s first line', async () => {
      await execa(join(tree, DIST_PATHS.node), [join(tree, DIST_PATHS.runJs), '--version'], {reject: false, env: hostile(), extendEnv: false})
      assert.equal(existsSync(marker), true, 'the preload ran: this is what the launcher must prevent')
    })

    // Run by its #! line (/bin/sh), and by bash in POSIX mode, which is what /bin/sh is on macOS.
    for (const shell of [[], ['/bin/bash', '--posix']]) {
      it(`runs no NODE_OPTIONS preload, and --version still answers (${shell.length === 0 ? 'its #! line' : shell.join(' ')})`, async () => {
        const [file, ...args] = [...shell, join(tree, DIST_PATHS.launcher), '--version']
        const r = await execa(file!, args, {reject: false, env: hostile(), extendEnv: false})
        assert.equal(existsSync(marker), false, 'the preload must not run')
        assert.equal(r.exitCode, 0, r.stderr)
        assert.match(r.stdout, new RegExp(`^esdctl/${VERSION.replaceAll('.', '\\.')} `))
      })
    }

    describe('what reaches Node', () => {
      let capture: string
      let realNode: string
      before(async () => {
        capture = join(scratch, 'capture')
        realNode = join(tree, DIST_PATHS.node)
        await rm(realNode)
        // A stand-in Node that records its arguments and environment.
        await writeFile(realNode, `#!/bin/sh\n{ for a in "$@"; do printf 'ARG %s\\n' "$a"; done; /usr/bin/env; } > ${JSON.stringify(capture)}\n`, {mode: 0o755})
      })
      after(async () => {
        await rm(realNode)
        await symlink(process.execPath, realNode)
      })
      async function captured(launcher: string, args: string[]): Promise<{args: string[]; env: Map<string, string>}> {
        await rm(capture, {force: true})
        const r = await execa(launcher, args, {reject: false, env: {...hostile(), USER: 'admin', SUDO_USER: 'alice', TERM: 'xterm', TMPDIR: '/private/tmp/x'}, extendEnv: false})
        assert.equal(r.exitCode, 0, r.stderr)
        const lines = (await readFile(capture, 'utf8')).trimEnd().split('\n')
        const env = new Map(lines.filter(l => !l.startsWith('ARG ')).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]))
        return {args: lines.filter(l => l.startsWith('ARG ')).map(l => l.slice(4)), env}
      }

      it('an environment from the allowlist only: no NODE_*, no DYLD_*, the system PATH', async () => {
        const {args, env} = await captured(join(tree, DIST_PATHS.launcher), ['status', 'two words', '--json'])
        assert.deepEqual(args, [join(tree, DIST_PATHS.runJs), 'status', 'two words', '--json'])
        for (const name of env.keys()) assert.ok(!/^(NODE_|DYLD_)/.test(name), `${name} reached Node`)
        assert.equal(env.has('SOMETHING_ELSE'), false)
        assert.equal(env.get('PATH'), '/usr/bin:/bin:/usr/sbin:/sbin')
        assert.equal(env.get('HOME'), '/var/root')
        assert.equal(env.get('SUDO_USER'), 'alice', 'the audit log names the admin behind sudo')
        assert.equal(env.get('TERM'), 'xterm')
        assert.equal(env.get('TMPDIR'), '/private/tmp/x')
      })

      it('finds its own directory through chains of relative and absolute links, in directories with spaces', async () => {
        const links = join(scratch, 'links with spaces')
        await mkdir(join(links, 'a b'), {recursive: true})
        await symlink(join(tree, DIST_PATHS.launcher), join(links, 'absolute'))
        await symlink('../absolute', join(links, 'a b', 'relative'))
        await symlink('a b/relative', join(links, 'esdctl'))
        const {args} = await captured(join(links, 'esdctl'), ['--version'])
        assert.deepEqual(args, [join(tree, DIST_PATHS.runJs), '--version'])
      })
    })

    it('says so and exits 1 when the bundled Node is missing', async () => {
      const copy = join(scratch, 'no-node')
      await mkdir(join(copy, 'bin'), {recursive: true})
      await execa('cp', [join(tree, DIST_PATHS.launcher), join(copy, 'bin', 'esdctl')])
      const r = await execa(join(copy, 'bin', 'esdctl'), ['--version'], {reject: false, env: {}, extendEnv: false})
      assert.equal(r.exitCode, 1)
      assert.match(r.stderr, /the bundled Node is missing at .*\/libexec\/node/)
    })
  })
})
