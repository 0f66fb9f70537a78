/**
 * Child process for the peak-memory check: hashes one file (or verifies a signed one, first
 * argument `verify`) and prints its own peak resident set size, so nothing the parent holds
 * (like the in-memory baseline copy) is counted.
 */
import {readFileSync} from 'node:fs'
import {hashPages} from '../src/io/page-hasher.js'
import {verifyPath} from '../src/verify/verify-path.js'

const args = process.argv.slice(2)
const slots = args[0] === 'verify' ? await verifyWhole(args.slice(1)) : await hashWhole(args)

async function hashWhole([path, codeLimit, pageSize, parallel]: string[]): Promise<Buffer> {
  if (!path || !codeLimit || !pageSize || !parallel) throw new Error('usage: peak-memory-child <path> <codeLimit> <pageSize> <off|auto|N>')
  const mode = parallel === 'off' || parallel === 'auto' ? parallel : Number(parallel)
  return hashPages({path, sliceOffset: 0, codeLimit: Number(codeLimit), pageSize: Number(pageSize), hashType: 2}, {parallel: mode})
}

async function verifyWhole([path, parallel]: string[]): Promise<Buffer> {
  if (!path || (parallel !== 'off' && parallel !== 'auto')) throw new Error('usage: peak-memory-child verify <path> <off|auto>')
  const report = await verifyPath(path, {pageHashing: {parallel}})
  if (!report.ok) throw new Error(`did not verify: ${report.findings.map(f => f.id).join(', ')}`)
  return Buffer.alloc(0)
}
// maxRSS is in kibibytes. On Linux it carries over the parent's peak through fork and exec, so
// the parent starts this child while it is still small; VmHWM (this address space only) confirms.
const highWaterMark = /^VmHWM:\s+(\d+) kB$/m.exec(procStatus())?.[1]
process.stdout.write(
  JSON.stringify({
    slotBytes: slots.length,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    highWaterMarkBytes: highWaterMark === undefined ? undefined : Number(highWaterMark) * 1024,
  }) + '\n',
)

function procStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8')
  } catch {
    return ''
  }
}
