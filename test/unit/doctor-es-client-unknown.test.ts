import {strict as assert} from 'node:assert'
import {chmod, mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {esClientUnknown} from '../../src/doctor/es-client-unknown.js'
import type {OutputFile} from '../../src/status/daemon-output.js'

describe('doctor es.client with nothing to search: why each output path gave nothing', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esdctl-es-unknown-'))
  })
  after(() => rm(dir, {recursive: true, force: true}))
  const file = (key: OutputFile['key'], name: string): OutputFile => ({key, systemPath: `/opt/kd/var/log/${name}`, path: join(dir, name)})

  it('no output path in the plist: says there is none', async () => {
    const c = await esClientUnknown('kd', [])
    assert.equal(c.outcome, 'skipped')
    assert.equal(c.message, 'skipped: no StandardOutPath/StandardErrorPath output to search and no unified log here, so es_new_client results are unknown')
  })

  it('StandardOutPath set but not written, StandardErrorPath empty, a folder in the way: each named with its state', async () => {
    await writeFile(join(dir, 'err.log'), '')
    await mkdir(join(dir, 'dir.log'))
    const c = await esClientUnknown('kd', [file('StandardOutPath', 'out.log'), file('StandardErrorPath', 'err.log'), file('StandardErrorPath', 'dir.log')])
    assert.equal(c.message, 'skipped: StandardOutPath /opt/kd/var/log/out.log is set but not written yet (the daemon has printed nothing there since it was installed); StandardErrorPath /opt/kd/var/log/err.log is set but empty so far; StandardErrorPath /opt/kd/var/log/dir.log cannot be read; and no unified log here, so es_new_client results are unknown')
    assert.doesNotMatch(c.message, /no StandardOutPath/)
  })

  it('a path under a file (ENOTDIR): cannot be read, with the code', async () => {
    await writeFile(join(dir, 'plain'), 'x')
    await chmod(join(dir, 'plain'), 0o644)
    const c = await esClientUnknown('kd', [{key: 'StandardOutPath', systemPath: '/opt/kd/plain/out.log', path: join(dir, 'plain', 'out.log')}])
    assert.match(c.message, /^skipped: StandardOutPath \/opt\/kd\/plain\/out\.log cannot be read \(ENOTDIR\);/)
  })
})
