import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** Real milliseconds a process group gets to exit after SIGTERM before it is killed outright. */
const TERMINATION_GRACE_MS = 2_000;
const POLL_MS = 25;

/**
 * The process groups started for each instance (user data, daemons launched by hooks). Killing by group rather
 * than by pid also reaches what those processes started in the background (`sleep 1000 &`), so nothing an
 * instance ran outlives it.
 */
export class ProcessGroups {
  private readonly byInstance = new Map<string, Set<number>>();

  /** Tracks a group; the returned function forgets it again (once it is gone, its id may be reused). */
  track(instanceId: string, pgid: number): () => void {
    let groups = this.byInstance.get(instanceId);
    if (!groups) {
      groups = new Set();
      this.byInstance.set(instanceId, groups);
    }
    groups.add(pgid);
    return () => {
      this.byInstance.get(instanceId)?.delete(pgid);
    };
  }

  /** SIGTERM to every group of the instance, then SIGKILL to those still alive after the grace period. */
  async killAll(instanceId: string): Promise<void> {
    const groups = [...(this.byInstance.get(instanceId) ?? [])];
    this.byInstance.delete(instanceId);
    for (const pgid of groups) signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + TERMINATION_GRACE_MS;
    let alive = await liveGroups(groups);
    while (alive.length > 0 && Date.now() < deadline) {
      await delay(POLL_MS);
      alive = await liveGroups(alive);
    }
    for (const pgid of alive) signalGroup(pgid, 'SIGKILL');
    // SIGKILL cannot be ignored, but the kernel still needs a moment before the group is gone.
    const killDeadline = Date.now() + 1_000;
    while ((await liveGroups(alive)).length > 0 && Date.now() < killDeadline) await delay(POLL_MS);
  }

  instanceIds(): string[] {
    return [...this.byInstance.keys()];
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group already exited.
  }
}

/**
 * The groups that still have a running (non-zombie) member. Orphaned members are reaped by PID 1, which in
 * containers may take a second or more; a zombie no longer runs or holds a port, so it does not count.
 */
async function liveGroups(pgids: number[]): Promise<number[]> {
  const existing = pgids.filter(groupExists);
  if (existing.length === 0) return [];
  const live = await runningGroupsFromProc(new Set(existing));
  return live === undefined ? existing : existing.filter((pgid) => live.has(pgid));
}

/** Linux: the process groups among `wanted` with a member in a state other than zombie or dead. */
async function runningGroupsFromProc(wanted: Set<number>): Promise<Set<number> | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const live = new Set<number>();
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        // `pid (comm) state ppid pgrp …`; comm may contain spaces and parentheses, so split after the last ')'.
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const group = Number(pgrp);
        if (wanted.has(group) && state !== 'Z' && state !== 'X') live.add(group);
      }),
  );
  return live;
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pgid was reused by someone else's process, so ours is gone too.
    return false;
  }
}
