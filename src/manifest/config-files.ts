import type {Manifest} from './manifest.js'

/**
 * The first file the manifest's `config` names that the payload's etc/ does not ship, as its JSON
 * pointer (`/config/<index>`) and name; undefined when every one is shipped. `shipped` maps the
 * etc/-relative paths of the payload's regular files (configDefaults' hashes) to anything.
 * One rule for `esdctl payload` (the vendor's build) and install (the admin's Mac): a manifest
 * that promises a configuration file the payload lacks is refused by both, exit 4.
 */
export function missingConfigFile(manifest: Pick<Manifest, 'config'>, shipped: Readonly<Record<string, unknown>>): {pointer: string; file: string} | undefined {
  const index = (manifest.config ?? []).findIndex((file) => !Object.hasOwn(shipped, file))
  return index < 0 ? undefined : {pointer: `/config/${index}`, file: manifest.config![index]!}
}
