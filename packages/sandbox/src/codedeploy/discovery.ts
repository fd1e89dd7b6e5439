import type { Fleet, Instance } from '../fleet/types';
import type { TagFilter } from './model';

/** Which running instances a deployment group (or a deployment's targetInstances) names. */

function matchesFilter(instance: Instance, filter: TagFilter): boolean {
  const tags = instance.tags;
  switch (filter.Type) {
    case 'KEY_ONLY':
      return filter.Key !== undefined && Object.hasOwn(tags, filter.Key);
    case 'VALUE_ONLY':
      return Object.values(tags).includes(filter.Value ?? '');
    case 'KEY_AND_VALUE':
      return filter.Key !== undefined && tags[filter.Key] === filter.Value;
  }
}

export interface InstanceSelector {
  ec2TagFilters?: TagFilter[];
  ec2TagSet?: { ec2TagSetList: TagFilter[][] };
  autoScalingGroups?: string[];
}

/**
 * Instances matching any tag filter (OR), or every group of a tag set (AND of ORs), plus the instances of the
 * named Auto Scaling groups; running ones only, in launch order.
 */
export function discoverInstances(fleet: Fleet, selector: InstanceSelector): Instance[] {
  const running = fleet.instances().filter((instance) => instance.state === 'running');
  const found = new Map<string, Instance>();
  const filters = selector.ec2TagFilters ?? [];
  if (filters.length > 0) {
    for (const instance of running) {
      if (filters.some((filter) => matchesFilter(instance, filter))) found.set(instance.instanceId, instance);
    }
  }
  const tagSet = (selector.ec2TagSet?.ec2TagSetList ?? []).filter((group) => group.length > 0);
  if (tagSet.length > 0) {
    for (const instance of running) {
      if (tagSet.every((group) => group.some((filter) => matchesFilter(instance, filter))))
        found.set(instance.instanceId, instance);
    }
  }
  for (const name of selector.autoScalingGroups ?? []) {
    const group = fleet.autoScalingGroup(name);
    for (const instanceId of group?.instanceIds ?? []) {
      const instance = fleet.instance(instanceId);
      if (instance?.state === 'running') found.set(instanceId, instance);
    }
  }
  return [...found.values()].sort((a, b) => a.launchTime.getTime() - b.launchTime.getTime());
}
