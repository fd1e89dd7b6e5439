import type { FaultPlan, FaultResponse, FaultTarget } from '../context';

/** Per-target FIFO queues of scripted failures; an empty queue means "behave normally". */
export function createFaultPlan(): FaultPlan {
  const queues = new Map<FaultTarget, FaultResponse[]>();
  return {
    queue(target, responses) {
      const queue = queues.get(target) ?? [];
      // Copies, so a caller mutating its array afterwards cannot change what is already scheduled.
      queue.push(...responses.map((response) => ({ ...response })));
      queues.set(target, queue);
    },
    next(target) {
      const queue = queues.get(target);
      const response = queue?.shift();
      if (queue && queue.length === 0) queues.delete(target);
      return response;
    },
    clear(target) {
      if (target === undefined) queues.clear();
      else queues.delete(target);
    },
  };
}
