import type { Fleet } from '../fleet/types';
import type { DeploymentConfigRecord, DeploymentGroupRecord, ErrorInformation } from './model';
import type { RunContext } from './lifecycle';

/** What one running deployment shares between the runner and its in-place / blue/green phases. */

export type Outcome = { status: 'Succeeded' } | { status: 'Failed' | 'Stopped'; error: ErrorInformation };

export type WaitType = 'READY_WAIT' | 'TERMINATION_WAIT';

/** A wait that ContinueDeployment can cut short. */
export class ContinuableWait {
  private release: (() => void) | undefined;
  active: WaitType | undefined;

  /** Resolves 'continued' on ContinueDeployment, 'elapsed' after the (simulated) wait; rejects on abort. */
  async wait(type: WaitType, seconds: number | undefined, ctx: RunContext): Promise<'continued' | 'elapsed'> {
    this.active = type;
    const timer = new AbortController();
    const onAbort = () => timer.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const continued = new Promise<'continued'>((resolve) => {
        this.release = () => resolve('continued');
      });
      const contenders: Array<Promise<'continued' | 'elapsed'>> = [continued];
      if (seconds !== undefined)
        contenders.push(ctx.clock.sleep(seconds, timer.signal).then(() => 'elapsed' as const));
      const aborted = new Promise<never>((_, reject) => {
        if (ctx.signal.aborted) reject(new Error('aborted'));
        timer.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
      return await Promise.race([...contenders, aborted]);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      // Cancels the sleep's timer so a stopped sandbox has nothing left scheduled.
      timer.abort();
      this.active = undefined;
      this.release = undefined;
    }
  }

  continue(): void {
    this.release?.();
  }
}

export interface PhaseContext extends RunContext {
  group: DeploymentGroupRecord;
  config: DeploymentConfigRecord;
  fleet: Fleet;
  waits: ContinuableWait;
  /** Instances whose last successful deployment in this group already had this revision (updateOutdatedInstancesOnly). */
  upToDate(instanceId: string): boolean;
  /** Records a successful install on an instance (the agent's last successful install, and the outdated check). */
  instanceSucceeded(instanceId: string): Promise<void>;
}

export function failed(code: string, message: string): Outcome {
  return { status: 'Failed', error: { code, message } };
}

export const NO_INSTANCES_MESSAGE =
  'The deployment failed because no instances were found for your deployment group. Check your deployment group settings to make sure the tags for your Amazon EC2 instances or Auto Scaling groups correctly identify the instances you want to deploy to, and then try again.';

export const MANUAL_STOP_MESSAGE = 'The deployment was stopped by a user.';
