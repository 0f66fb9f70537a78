/**
 * macOS signal numbers (they differ from Linux above 15: SIGUSR1 is 30 on Darwin, 10 on Linux),
 * so the numbers launchd prints are decoded against Darwin's table, never `os.constants`.
 */
const DARWIN_SIGNALS: readonly string[] = [
  '', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGEMT', 'SIGFPE', 'SIGKILL',
  'SIGBUS', 'SIGSEGV', 'SIGSYS', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGURG', 'SIGSTOP', 'SIGTSTP',
  'SIGCONT', 'SIGCHLD', 'SIGTTIN', 'SIGTTOU', 'SIGIO', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF',
  'SIGWINCH', 'SIGINFO', 'SIGUSR1', 'SIGUSR2',
]

export function darwinSignalName(signal: number): string {
  return DARWIN_SIGNALS[signal] || `signal ${signal}`
}
