import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {PrefixLayout, ToolPaths} from '../../src/layout/prefix-layout.js'
import {readRegistry, serializeRegistry, withEntry} from '../../src/records/registry.js'
import {serializeInstallRecord, type InstallRecord} from '../../src/records/install-record.js'

/**
 * What `esdctl install` leaves behind for status, doctor and logs to read — the registry entry and
 * the install record under a temporary `--root` — without running an install. Shared by the
 * startup benchmark and the status/doctor/logs tests.
 */
export interface FixtureDaemon {
  root: string
  name: string
  label: string
  record?: Partial<InstallRecord>
}

export function fixtureRecord(d: FixtureDaemon): InstallRecord {
  const system = new PrefixLayout({name: d.name, label: d.label})
  return {
    schemaVersion: 1,
    name: d.name,
    label: d.label,
    bundleId: `com.example.${d.name}`,
    teamId: 'ABCDE12345',
    version: '1.2.3',
    build: '45',
    installedAt: '2026-01-02T10:00:00.000Z',
    installedBy: 'admin',
    cdhashes: [{arch: 'arm64', cdhash: '00'.repeat(20)}],
    signer: {kind: 'developer-id', commonName: 'Developer ID Application: Example (ABCDE12345)'},
    configHashes: {},
    plistPath: system.launchdPlist,
    executable: system.executable,
    ...d.record,
  }
}

/** Writes the registry entry and the record; returns the daemon's (rebased) layout. */
export async function writeInstalledFixture(d: FixtureDaemon): Promise<PrefixLayout> {
  const layout = new PrefixLayout({name: d.name, label: d.label, root: d.root})
  const registryPath = new ToolPaths(d.root).registry
  const entries = withEntry(await readRegistry(d.root), {name: d.name, label: d.label, prefix: layout.system.prefix})
  await mkdir(dirname(registryPath), {recursive: true})
  await writeFile(registryPath, serializeRegistry(entries))
  await mkdir(layout.stateDir, {recursive: true, mode: 0o700})
  await writeFile(layout.receipt, serializeInstallRecord(fixtureRecord(d)), {mode: 0o600})
  return layout
}
