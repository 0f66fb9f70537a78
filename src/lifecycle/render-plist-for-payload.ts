import {join} from 'node:path'
import {RootFs} from '../adapters/root-fs.js'
import {renderLaunchdPlist} from '../launchd/render-plist.js'
import {PrefixLayout} from '../layout/prefix-layout.js'
import {layoutOptionsOf} from '../manifest/manifest.js'
import {bundleExecutableName} from './judge-payload.js'
import {openPayload} from './payload-source.js'

/** What `esdctl plist PAYLOAD` prints: the launchd plist install would write, and where. */
export async function renderPlistForPayload(payload: string, root = '/'): Promise<{path: string; xml: string}> {
  const source = await openPayload(payload)
  try {
    const layout = new PrefixLayout({...layoutOptionsOf(source.manifest), root})
    const executableName = await bundleExecutableName(new RootFs(), join(source.dir, layout.bundle))
    const placed = executableName === undefined ? layout : layout.with(layoutOptionsOf(source.manifest, executableName))
    return {path: placed.launchdPlist, xml: renderLaunchdPlist(source.manifest, placed)}
  } finally {
    await source.dispose()
  }
}
