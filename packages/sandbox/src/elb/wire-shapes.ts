import type { XmlValue } from '../aws/xml';
import type { ForwardAction, Listener, LoadBalancer } from './load-balancing';
import type { TargetGroupState, TargetHealthReport } from './target-group';

/** ELBv2's response members, in the order and shapes of the 2015-12-01 API. */

export function loadBalancerXml(lb: LoadBalancer, vpcId: string | undefined): XmlValue {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: lb.canonicalHostedZoneId,
    CreatedTime: lb.createdAt,
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: vpcId,
    State: { Code: 'active' },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((subnetId, i) => ({
      ZoneName: `${lb.arn.split(':')[3]}${'abcdef'[i % 6]}`,
      SubnetId: subnetId,
    })),
    SecurityGroups: lb.securityGroups,
    IpAddressType: 'ipv4',
  };
}

export function targetGroupXml(group: TargetGroupState): XmlValue {
  const check = group.healthCheck;
  return {
    TargetGroupArn: group.arn,
    TargetGroupName: group.name,
    Protocol: group.protocol,
    Port: group.port,
    VpcId: group.vpcId,
    HealthCheckProtocol: 'HTTP',
    HealthCheckPort: 'traffic-port',
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: check.intervalSeconds,
    HealthCheckTimeoutSeconds: check.timeoutSeconds,
    HealthyThresholdCount: check.healthyThresholdCount,
    UnhealthyThresholdCount: check.unhealthyThresholdCount,
    HealthCheckPath: check.path,
    Matcher: { HttpCode: check.matcher },
    LoadBalancerArns: [...group.loadBalancerArns],
    TargetType: 'instance',
    ProtocolVersion: 'HTTP1',
    IpAddressType: 'ipv4',
  };
}

export function targetGroupAttributesXml(group: TargetGroupState): XmlValue {
  const attributes: Array<[string, string]> = [
    ['deregistration_delay.timeout_seconds', String(group.deregistrationDelaySeconds)],
    ['stickiness.enabled', 'false'],
    ['stickiness.type', 'lb_cookie'],
    ['stickiness.lb_cookie.duration_seconds', '86400'],
    ['load_balancing.algorithm.type', 'round_robin'],
    ['slow_start.duration_seconds', '0'],
  ];
  return attributes.map(([Key, Value]) => ({ Key, Value }));
}

function actionXml(action: ForwardAction, index: number): XmlValue {
  const forwardConfig = {
    TargetGroups: action.targetGroups.map((tg) => ({ TargetGroupArn: tg.targetGroupArn, Weight: tg.weight })),
    TargetGroupStickinessConfig: { Enabled: false },
  };
  const single = action.targetGroups.length === 1 ? action.targetGroups[0]?.targetGroupArn : undefined;
  return {
    Type: action.type,
    TargetGroupArn: single,
    Order: index + 1,
    ForwardConfig: forwardConfig,
  };
}

export function listenerXml(listener: Listener): XmlValue {
  return {
    ListenerArn: listener.arn,
    LoadBalancerArn: listener.loadBalancerArn,
    Port: listener.port,
    Protocol: listener.protocol,
    DefaultActions: listener.defaultActions.map(actionXml),
  };
}

export function targetHealthXml(report: TargetHealthReport): XmlValue {
  return {
    Target: { Id: report.instanceId, Port: report.port },
    HealthCheckPort: String(report.port),
    TargetHealth: { State: report.state, Reason: report.reason, Description: report.description },
  };
}
