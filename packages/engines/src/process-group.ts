// Signals whole process groups, and kills the groups still alive when this process exits.

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Sends `signal` to every process of the group led by `pgid`; false when none is left. Never
 * throws: it runs from timers, and EPERM only means the id now belongs to someone else's process.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    // A negative pid addresses the process group (kill(2)); children forked by the tool share it.
    process.kill(-pgid, signal);

    return true;
  } catch {
    return false;
  }
}

/**
 * Remembers a group so it is SIGKILLed if this process exits first. execa's `cleanup` skips
 * detached subprocesses, so without this a crashing worker would orphan soffice.
 */
export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killTrackedGroups);
  }
}

export function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

function killTrackedGroups(): void {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
