import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {buildPayload as assemblePayload} from '../../src/payload-build/build-payload.js'
import type {TrustStore} from '../../src/trust/trust-store.js'
import {buildBundle} from './bundle-builder.js'
import type {TestIdentity} from './test-pki.js'

/** osquery's real layout facts (DESIGN.md §11), for lifecycle tests of a daemon whose names all differ. */
export const OSQUERY = {
  name: 'osquery',
  teamId: '3522FA9PXF',
  bundleId: 'io.osquery.agent',
  bundle: 'lib/osquery.app',
  executable: '/opt/osquery/lib/osquery.app/Contents/MacOS/osqueryd',
} as const

export const OSQUERY_V1_LINKS = [{path: 'bin/osqueryd'}, {path: '/usr/local/bin/osqueryi'}, {path: '/usr/local/bin/osqueryctl', target: 'Contents/Resources/osqueryctl'}]
export const OSQUERY_V2_LINKS = [{path: 'bin/osqueryd'}, {path: '/usr/local/bin/osqueryi'}]

/** `bundle` null leaves the manifest's `bundle` out (the default place, `osquery.app`). */
export function osqueryManifest(links: object[], bundle: string | null = OSQUERY.bundle): object {
  return {name: OSQUERY.name, label: OSQUERY.bundleId, bundleId: OSQUERY.bundleId, teamId: OSQUERY.teamId, ...(bundle === null ? {} : {bundle}), links, RunAtLoad: true, KeepAlive: true}
}

/** `<dir>/osquery.app` (executable osqueryd, a script in Contents/Resources), signed by the test signing kit; `profile` replaces the test-signed one. */
export async function osqueryApp(dir: string, version: string, identity: TestIdentity, profile?: Buffer): Promise<string> {
  mkdirSync(dir, {recursive: true})
  await buildBundle({
    dir, name: 'osquery', executableName: 'osqueryd', bundleId: OSQUERY.bundleId, teamId: OSQUERY.teamId, version, identity, codeSize: 16 * 1024,
    extraFiles: {'Resources/osqueryctl': Buffer.from('#!/bin/sh\nexec /opt/osquery/bin/osqueryd "$@"\n')},
    ...(profile ? {profile} : {}),
  })
  return join(dir, 'osquery.app')
}

/** An install payload assembled by `esdctl payload` (library) from a fresh osquery.app; returns the payload directory. */
export async function osqueryPayload(base: string, version: string, links: object[], identity: TestIdentity, trust: TrustStore, bundle: string | null = OSQUERY.bundle): Promise<string> {
  const app = await osqueryApp(`${base}-app`, version, identity)
  const manifestPath = `${app}.json`
  writeFileSync(manifestPath, JSON.stringify(osqueryManifest(links, bundle)))
  return (await assemblePayload({app, manifest: manifestPath, out: `${base}-out`}, {trust, pkgbuild: null})).payload
}
