/** Thread of the parallel ceiling (parallel-ceiling.ts): hashes the share of pages it is sent and says so. */
import {parentPort} from 'node:worker_threads'
import {hashShare, type CeilingShare} from './parallel-ceiling-share.js'

parentPort?.on('message', (share: CeilingShare) => {
  hashShare(share)
  parentPort!.postMessage('done')
})
