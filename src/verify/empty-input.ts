import {finding, type Finding} from './finding.js'

/**
 * What rebuilds or fetches again a file of this name: an empty file is what a build or a download
 * cut short leaves behind (the tool created the file, then stopped before writing a byte), never a
 * kind of its own. Matched on the name alone, since 0 bytes carry no magic to sniff.
 */
const REMAKE: Array<[RegExp, string]> = [
  [/\.m?pkg$/i, 'The package build or download was cut short: build it again (pkgbuild/productbuild) or download it again, and check it is no longer 0 bytes.'],
  [/\.zip$/i, 'The archive build or download was cut short: build it again (ditto -c -k --keepParent <name>.app <name>.zip) or download it again.'],
  [/\.(tar\.gz|tgz)$/i, 'The archive build or download was cut short: build it again (tar -czf <name>.tar.gz <name>.app) or download it again.'],
  [/\.(provisionprofile|mobileprovision)$/i, 'The download was cut short: download the profile again from the Apple Developer portal.'],
]

/**
 * `input.empty` (bad input, exit 4) for a regular file of 0 bytes at `path`: named as empty rather
 * than as "not a kind esdctl verifies", whatever its name promises (.pkg, .zip, .tgz, an executable,
 * a profile), with the way to make it again (the catalogue's fix for any other name: an executable, most often).
 */
export function emptyInput(path: string): Finding {
  const fix = REMAKE.find(([name]) => name.test(path))?.[1]
  return finding('input.empty', path, `${path}: the file is empty (0 bytes), so there is nothing in it to verify`, fix)
}
