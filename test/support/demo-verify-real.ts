import {execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {ARTIFACTS, REPO_ROOT, realArtifact} from './real-artifacts.js'

/**
 * `npm run demo`: fetches the real Developer ID-signed sentry-cli from the registry (pinned,
 * integrity-checked) and runs `esdctl verify` on it, so a newcomer sees the tool on a real file.
 */
const path = await realArtifact(ARTIFACTS.sentryCli)
try {
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin', 'run.js'), 'verify', path, ...process.argv.slice(2)], {stdio: 'inherit'})
} catch (e) {
  process.exitCode = (e as {status?: number}).status ?? 1
}
