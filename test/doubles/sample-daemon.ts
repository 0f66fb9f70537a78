export {}

/**
 * A stand-in daemon for the fake launchd. Flags:
 *   --exit-after MS     exit on its own after MS (a crash-looping daemon, with --exit-code)
 *   --exit-code N       status for --exit-after (default 0)
 *   --term-delay MS     on SIGTERM, take MS to shut down before exiting 0
 *   --ignore-sigterm    never exit on SIGTERM (only SIGKILL ends it)
 * With no flags it runs until SIGTERM and exits 0 at once. Prints `started <pid>` on stdout.
 */
const args = process.argv.slice(2)

function flag(name: string): string | undefined {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const exitAfter = flag('--exit-after')
const exitCode = Number(flag('--exit-code') ?? 0)
const termDelay = Number(flag('--term-delay') ?? 0)
const ignoreSigterm = args.includes('--ignore-sigterm')

const keepAlive = setInterval(() => {}, 60_000)
if (exitAfter !== undefined) setTimeout(() => process.exit(exitCode), Number(exitAfter))
process.on('SIGTERM', () => {
  if (ignoreSigterm) return
  setTimeout(() => {
    clearInterval(keepAlive)
    process.exit(0)
  }, termDelay)
})
// Announced last: whoever waits for this line may rely on the SIGTERM handler being in place.
process.stdout.write(`started ${process.pid}\n`)
