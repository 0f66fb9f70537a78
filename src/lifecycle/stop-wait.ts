/** launchd sends SIGKILL ExitTimeOut seconds after SIGTERM (default 20); after that the label is freed within moments. */
export function stopWaitMs(exitTimeOutSeconds: number | undefined): number {
  return ((exitTimeOutSeconds ?? 20) + 5) * 1000
}
