// Loaded with `node --import` ahead of bin/run.js: prints the whole process's peak RSS on exit.
process.on('exit', () => {
  process.stderr.write(`\nESDCTL_BENCH_MAX_RSS=${process.resourceUsage().maxRSS * 1024}\n`)
})
export {}
