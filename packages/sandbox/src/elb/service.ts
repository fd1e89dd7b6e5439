import { renderQueryResult, type QueryParams, type QueryTree } from '../aws/query';
import type { AwsCall, AwsEnvironment, AwsReply, AwsService } from '../aws/service';
import { AwsError } from '../aws/errors';
import type { XmlValue } from '../aws/xml';
import { elbErrors } from './errors';
import type { HealthCheckSettings } from './health-checker';
import { asElasticLoadBalancing, type ElasticLoadBalancing, type ForwardAction } from './load-balancing';
import { checkInstanceId } from './names';
import {
  listenerXml,
  loadBalancerXml,
  targetGroupAttributesXml,
  targetGroupXml,
  targetHealthXml,
} from './wire-shapes';

export const ELBV2_VERSION = '2015-12-01';
export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

type Operation = (params: QueryParams) => Promise<Record<string, XmlValue | undefined>>;

const ARN_KINDS = {
  loadBalancer: {
    pattern: /^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:loadbalancer\//,
    what: 'load balancer',
  },
  targetGroup: {
    pattern: /^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:targetgroup\//,
    what: 'target group',
  },
  listener: { pattern: /^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:listener\//, what: 'listener' },
} as const;

function checkArn(kind: keyof typeof ARN_KINDS, arn: string): string {
  const { pattern, what } = ARN_KINDS[kind];
  if (!pattern.test(arn)) throw elbErrors.validation(`'${arn}' is not a valid ${what} ARN`);
  return arn;
}

function required(params: QueryParams, name: string): string {
  const value = params.string(name);
  if (value === undefined || value === '')
    throw elbErrors.validation(
      `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function structs(tree: QueryTree | undefined): Array<Record<string, QueryTree>> {
  if (!Array.isArray(tree)) return [];
  return tree.filter(
    (item): item is Record<string, QueryTree> => typeof item === 'object' && !Array.isArray(item),
  );
}

function text(value: QueryTree | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value))
    throw elbErrors.validation(`Value '${value}' for parameter ${name} is invalid. Must be an integer.`);
  return Number(value);
}

/** DefaultActions.member.N: forward with TargetGroupArn, or with ForwardConfig's weighted groups. */
function readActions(params: QueryParams): ForwardAction[] | undefined {
  if (params.tree['DefaultActions'] === undefined) return undefined;
  return structs(params.tree['DefaultActions']).map((action, i) => {
    const type = text(action['Type']);
    if (type !== 'forward')
      throw elbErrors.validation(
        `The sandbox supports listener actions of type 'forward' only, not '${type ?? 'null'}' (defaultActions.${i + 1})`,
      );
    const forwardConfig = action['ForwardConfig'];
    const weighted =
      typeof forwardConfig === 'object' && !Array.isArray(forwardConfig)
        ? structs(forwardConfig['TargetGroups']).map((tg) => ({
            targetGroupArn: checkArn('targetGroup', text(tg['TargetGroupArn']) ?? ''),
            weight: integer(text(tg['Weight']), 'Weight') ?? 1,
          }))
        : [];
    const arn = text(action['TargetGroupArn']);
    if (
      arn !== undefined &&
      weighted.length > 0 &&
      !(weighted.length === 1 && weighted[0]?.targetGroupArn === arn)
    )
      throw elbErrors.validation(
        'You cannot specify both a target group ARN and a forward config with different target groups',
      );
    if (arn === undefined && weighted.length === 0)
      throw elbErrors.validation('A target group ARN must be specified for a forward action');
    return {
      type: 'forward',
      targetGroups:
        weighted.length > 0 ? weighted : [{ targetGroupArn: checkArn('targetGroup', arn ?? ''), weight: 1 }],
      viaForwardConfig: weighted.length > 0,
    };
  });
}

function readTargets(params: QueryParams): Array<{ instanceId: string; port?: number }> {
  const targets = structs(params.tree['Targets']).map((target) => {
    const instanceId = text(target['Id']) ?? '';
    checkInstanceId(instanceId);
    const port = integer(text(target['Port']), 'Port');
    return port === undefined ? { instanceId } : { instanceId, port };
  });
  if (targets.length === 0)
    throw elbErrors.validation(
      "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
    );
  return targets;
}

function readHealthCheck(params: QueryParams): Partial<HealthCheckSettings> {
  const matcher = params.tree['Matcher'];
  const settings: Partial<HealthCheckSettings> = {
    path: params.string('HealthCheckPath'),
    intervalSeconds: params.integer('HealthCheckIntervalSeconds'),
    timeoutSeconds: params.integer('HealthCheckTimeoutSeconds'),
    healthyThresholdCount: params.integer('HealthyThresholdCount'),
    unhealthyThresholdCount: params.integer('UnhealthyThresholdCount'),
    matcher: typeof matcher === 'object' && !Array.isArray(matcher) ? text(matcher['HttpCode']) : undefined,
  };
  const protocol = params.string('HealthCheckProtocol');
  if (protocol !== undefined && protocol !== 'HTTP')
    throw elbErrors.validation(`The sandbox checks health over HTTP only, not '${protocol}'`);
  return settings;
}

/** Marker/PageSize paging: the marker is the index of the next item. */
function page<T>(items: T[], params: QueryParams): { items: T[]; nextMarker: string | undefined } {
  const size = params.integer('PageSize') ?? 400;
  if (size < 1 || size > 400)
    throw elbErrors.validation(
      `1 validation error detected: Value '${size}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400`,
    );
  const marker = params.string('Marker');
  const start = marker === undefined ? 0 : Number.parseInt(marker, 10);
  if (!Number.isInteger(start) || start < 0) throw elbErrors.validation('The marker is not valid');
  const slice = items.slice(start, start + size);
  return { items: slice, nextMarker: start + size < items.length ? String(start + size) : undefined };
}

function operations(elb: ElasticLoadBalancing, env: AwsEnvironment): Record<string, Operation> {
  const vpcOf = (arn: string) =>
    elb.targetGroups().find((g) => g.loadBalancerArns.has(arn) && g.vpcId !== undefined)?.vpcId ??
    `vpc-${env.accountId.slice(-8)}`;

  const requireGroup = (arn: string) => {
    const group = elb.targetGroup(checkArn('targetGroup', arn));
    if (!group || group.arn !== arn) throw elbErrors.targetGroupNotFound();
    return group;
  };

  return {
    async CreateLoadBalancer(p) {
      const lb = await elb.createLoadBalancer({
        name: required(p, 'Name'),
        scheme: p.string('Scheme'),
        type: p.string('Type'),
        subnets: p.list('Subnets'),
        securityGroups: p.list('SecurityGroups'),
      });
      return { LoadBalancers: [loadBalancerXml(lb, vpcOf(lb.arn))] };
    },

    async DescribeLoadBalancers(p) {
      const arns = p.list('LoadBalancerArns') ?? [];
      const names = p.list('Names') ?? [];
      if (arns.length > 0 && names.length > 0)
        throw elbErrors.validation(
          'Load balancer names and load balancer ARNs cannot be specified at the same time',
        );
      let found = elb.loadBalancers();
      if (arns.length > 0) {
        arns.forEach((arn) => checkArn('loadBalancer', arn));
        found = found.filter((lb) => arns.includes(lb.arn));
        if (found.length < new Set(arns).size) throw elbErrors.loadBalancerNotFound();
      } else if (names.length > 0) {
        found = found.filter((lb) => names.includes(lb.name));
        if (found.length < new Set(names).size) throw elbErrors.loadBalancerNotFound();
      }
      const { items, nextMarker } = page(found, p);
      return { LoadBalancers: items.map((lb) => loadBalancerXml(lb, vpcOf(lb.arn))), NextMarker: nextMarker };
    },

    async DeleteLoadBalancer(p) {
      // Deleting a load balancer that does not exist (any more) succeeds, as documented.
      await elb.deleteLoadBalancer(checkArn('loadBalancer', required(p, 'LoadBalancerArn')));
      return {};
    },

    async CreateTargetGroup(p) {
      const group = elb.createTargetGroup({
        name: required(p, 'Name'),
        protocol: p.string('Protocol'),
        port: p.integer('Port'),
        vpcId: p.string('VpcId'),
        targetType: p.string('TargetType'),
        healthCheck: readHealthCheck(p),
      });
      return { TargetGroups: [targetGroupXml(group)] };
    },

    async DescribeTargetGroups(p) {
      const loadBalancerArn = p.string('LoadBalancerArn');
      const arns = p.list('TargetGroupArns') ?? [];
      const names = p.list('Names') ?? [];
      let found = elb.targetGroups();
      if (loadBalancerArn !== undefined) {
        if (!elb.loadBalancer(checkArn('loadBalancer', loadBalancerArn)))
          throw elbErrors.loadBalancerNotFound();
        found = found.filter((g) => g.loadBalancerArns.has(loadBalancerArn));
      }
      if (arns.length > 0) {
        arns.forEach((arn) => checkArn('targetGroup', arn));
        found = found.filter((g) => arns.includes(g.arn));
        if (found.length < new Set(arns).size) throw elbErrors.targetGroupNotFound();
      }
      if (names.length > 0) {
        found = found.filter((g) => names.includes(g.name));
        if (found.length < new Set(names).size) throw elbErrors.targetGroupNotFound();
      }
      const { items, nextMarker } = page(found, p);
      return { TargetGroups: items.map(targetGroupXml), NextMarker: nextMarker };
    },

    async ModifyTargetGroup(p) {
      const group = requireGroup(required(p, 'TargetGroupArn'));
      return { TargetGroups: [targetGroupXml(elb.modifyTargetGroup(group.arn, readHealthCheck(p)))] };
    },

    async DescribeTargetGroupAttributes(p) {
      return { Attributes: targetGroupAttributesXml(requireGroup(required(p, 'TargetGroupArn'))) };
    },

    async ModifyTargetGroupAttributes(p) {
      const group = requireGroup(required(p, 'TargetGroupArn'));
      for (const attribute of structs(p.tree['Attributes'])) {
        const key = text(attribute['Key']);
        const value = text(attribute['Value']) ?? '';
        if (key === 'deregistration_delay.timeout_seconds') {
          elb.setDeregistrationDelay(group.arn, integer(value, key) ?? Number.NaN);
        } else if (key === 'stickiness.enabled' && value === 'true') {
          throw elbErrors.validation('The sandbox does not model sticky sessions');
        } else if (!key || !KNOWN_ATTRIBUTES.has(key)) {
          throw elbErrors.validation(`Target group attribute key '${key ?? ''}' is not recognized`);
        }
      }
      return { Attributes: targetGroupAttributesXml(group) };
    },

    async DeleteTargetGroup(p) {
      elb.deleteTargetGroup(checkArn('targetGroup', required(p, 'TargetGroupArn')));
      return {};
    },

    async CreateListener(p) {
      const loadBalancerArn = checkArn('loadBalancer', required(p, 'LoadBalancerArn'));
      const actions = readActions(p);
      if (!actions || actions.length === 0)
        throw elbErrors.validation(
          "1 validation error detected: Value null at 'defaultActions' failed to satisfy constraint: Member must not be null",
        );
      const listener = elb.createListener({
        loadBalancerArn,
        port: p.integer('Port') ?? Number.NaN,
        protocol: p.string('Protocol'),
        defaultActions: actions,
      });
      return { Listeners: [listenerXml(listener)] };
    },

    async DescribeListeners(p) {
      const loadBalancerArn = p.string('LoadBalancerArn');
      const arns = p.list('ListenerArns') ?? [];
      if (loadBalancerArn === undefined && arns.length === 0)
        throw elbErrors.validation('You must specify either listener ARNs or a load balancer ARN');
      let found = elb.listeners();
      if (loadBalancerArn !== undefined) {
        if (!elb.loadBalancer(checkArn('loadBalancer', loadBalancerArn)))
          throw elbErrors.loadBalancerNotFound();
        found = found.filter((l) => l.loadBalancerArn === loadBalancerArn);
      }
      if (arns.length > 0) {
        arns.forEach((arn) => checkArn('listener', arn));
        found = found.filter((l) => arns.includes(l.arn));
        if (found.length < new Set(arns).size) throw elbErrors.listenerNotFound();
      }
      const { items, nextMarker } = page(found, p);
      return { Listeners: items.map(listenerXml), NextMarker: nextMarker };
    },

    async ModifyListener(p) {
      const arn = checkArn('listener', required(p, 'ListenerArn'));
      const protocol = p.string('Protocol');
      if (protocol !== undefined && protocol !== 'HTTP')
        throw elbErrors.validation(`The sandbox models HTTP listeners only, not '${protocol}'`);
      const listener = elb.modifyListener(arn, { port: p.integer('Port'), defaultActions: readActions(p) });
      return { Listeners: [listenerXml(listener)] };
    },

    async DeleteListener(p) {
      elb.deleteListener(checkArn('listener', required(p, 'ListenerArn')));
      return {};
    },

    async RegisterTargets(p) {
      const group = requireGroup(required(p, 'TargetGroupArn'));
      await elb.registerTargetsWithPorts(group.arn, readTargets(p));
      return {};
    },

    async DeregisterTargets(p) {
      const group = requireGroup(required(p, 'TargetGroupArn'));
      const targets = readTargets(p);
      const missing = targets.filter((t) => !env.fleet.instance(t.instanceId)).map((t) => t.instanceId);
      if (missing.length > 0) throw elbErrors.instancesDoNotExist(missing);
      // The API answers at once; the targets drain in the background (DescribeTargetHealth shows `draining`).
      elb
        .deregisterTargets(
          group.arn,
          targets.map((t) => t.instanceId),
        )
        .catch((error: unknown) =>
          env.log(`elb ${group.name}: deregistration failed: ${(error as Error).message}`),
        );
      return {};
    },

    async DescribeTargetHealth(p) {
      const group = requireGroup(required(p, 'TargetGroupArn'));
      const requested = p.tree['Targets'] === undefined ? undefined : readTargets(p);
      if (requested === undefined) return { TargetHealthDescriptions: group.health().map(targetHealthXml) };
      const missing = requested.filter((t) => !env.fleet.instance(t.instanceId)).map((t) => t.instanceId);
      if (missing.length > 0) throw elbErrors.instancesDoNotExist(missing);
      return {
        TargetHealthDescriptions: requested.map((target) =>
          targetHealthXml(
            group.healthOf(target.instanceId) ?? {
              instanceId: target.instanceId,
              port: target.port ?? group.port,
              state: 'unused',
              reason: 'Target.NotRegistered',
              description: 'Target is not registered to the target group',
            },
          ),
        ),
      };
    },
  };
}

const KNOWN_ATTRIBUTES = new Set([
  'deregistration_delay.timeout_seconds',
  'stickiness.enabled',
  'stickiness.type',
  'stickiness.lb_cookie.duration_seconds',
  'load_balancing.algorithm.type',
  'slow_start.duration_seconds',
]);

/** Elastic Load Balancing v2 over awsQuery (`Version=2015-12-01`, signing name elasticloadbalancing). */
export function createElbService(env: AwsEnvironment): AwsService {
  let table: Record<string, Operation> | undefined;
  return {
    name: 'elbv2',
    signingName: 'elasticloadbalancing',
    protocol: { kind: 'query', xmlns: ELBV2_XMLNS },
    async handle(call: AwsCall): Promise<AwsReply> {
      // Resolved on first use: the environment's load balancing exists before, but is only needed per call.
      table ??= operations(asElasticLoadBalancing(env.elb), env);
      const operation = Object.hasOwn(table, call.operation) ? table[call.operation] : undefined;
      if (!operation)
        throw new AwsError(
          'InvalidAction',
          `Could not find operation ${call.operation} for version ${ELBV2_VERSION}`,
        );
      const result = await operation(call.params!);
      return {
        headers: { 'content-type': 'text/xml' },
        body: renderQueryResult(call.operation, ELBV2_XMLNS, result, call.requestId),
      };
    },
  };
}
