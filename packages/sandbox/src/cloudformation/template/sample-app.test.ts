import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  creationWaves,
  dependencyGraph,
  evaluateConditions,
  parseTemplate,
  resolveParameters,
  resolveValue,
  summarize,
} from './index';
import { fakeContext } from './test-support';
import type { FakeResource } from './test-support';

/** The shape of the blog's deploy-app-to-aws.yml: a web fleet behind an ALB, deployed blue/green by CodeDeploy. */
const SAMPLE_APP = `AWSTemplateFormatVersion: '2010-09-09'
Description: Sample web application deployed blue/green with CodeDeploy
Parameters:
  InstanceType:
    Type: String
    Default: t3.micro
    AllowedValues: [t3.micro, t3.small]
  LatestAmiId:
    Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>'
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  VpcCidr:
    Type: String
    Default: 10.0.0.0/16
    AllowedPattern: '(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})'
  EnableHttps:
    Type: String
    Default: 'false'
    AllowedValues: ['true', 'false']
Conditions:
  UseHttps: !Equals [!Ref EnableHttps, 'true']
Resources:
  VPC:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref VpcCidr
      EnableDnsHostnames: true
      Tags: [{Key: Name, Value: !Sub '\${AWS::StackName}-vpc'}]
  InternetGateway:
    Type: AWS::EC2::InternetGateway
  GatewayAttachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties:
      VpcId: !Ref VPC
      InternetGatewayId: !Ref InternetGateway
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      CidrBlock: !Select [0, !Cidr [!GetAtt VPC.CidrBlock, 2, 8]]
      AvailabilityZone: !Select [0, !GetAZs '']
      MapPublicIpOnLaunch: true
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref VPC
      CidrBlock: !Select [1, !Cidr [!GetAtt VPC.CidrBlock, 2, 8]]
      AvailabilityZone: !Select [1, !GetAZs '']
      MapPublicIpOnLaunch: true
  RouteTable:
    Type: AWS::EC2::RouteTable
    Properties:
      VpcId: !Ref VPC
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: GatewayAttachment
    Properties:
      RouteTableId: !Ref RouteTable
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref InternetGateway
  SecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: Web traffic
      VpcId: !Ref VPC
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 80, ToPort: 80, CidrIp: 0.0.0.0/0}
        - !If [UseHttps, {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}, !Ref AWS::NoValue]
  LoadBalancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Subnets: [!Ref SubnetA, !Ref SubnetB]
      SecurityGroups: [!GetAtt SecurityGroup.GroupId]
  TargetGroup:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      VpcId: !Ref VPC
      Port: 80
      Protocol: HTTP
      HealthCheckPath: /
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LoadBalancer
      Port: 80
      Protocol: HTTP
      DefaultActions: [{Type: forward, TargetGroupArn: !Ref TargetGroup}]
  InstanceRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: ec2.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub 'arn:\${AWS::Partition}:iam::aws:policy/service-role/AmazonEC2RoleforAWSCodeDeploy'
  InstanceProfile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref InstanceRole]
  CodeDeployServiceRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: codedeploy.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns:
        - !Sub 'arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSCodeDeployRole'
  LaunchTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref LatestAmiId
        InstanceType: !Ref InstanceType
        IamInstanceProfile: {Arn: !GetAtt InstanceProfile.Arn}
        SecurityGroupIds: [!GetAtt SecurityGroup.GroupId]
        UserData:
          Fn::Base64: !Sub |
            #!/bin/bash
            cd /tmp && curl -O https://aws-codedeploy-\${AWS::Region}.s3.\${AWS::Region}.\${AWS::URLSuffix}/latest/install
            chmod +x ./install && ./install auto
  AutoScalingGroup:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: '2'
      MaxSize: '4'
      DesiredCapacity: '2'
      VPCZoneIdentifier: [!Ref SubnetA, !Ref SubnetB]
      TargetGroupARNs: [!Ref TargetGroup]
      LaunchTemplate:
        LaunchTemplateId: !Ref LaunchTemplate
        Version: !GetAtt LaunchTemplate.LatestVersionNumber
  Application:
    Type: AWS::CodeDeploy::Application
    Properties:
      ApplicationName: aws-toolkit-for-azure-devops
      ComputePlatform: Server
  DeploymentGroup:
    Type: AWS::CodeDeploy::DeploymentGroup
    Properties:
      ApplicationName: !Ref Application
      DeploymentGroupName: my-sample-bg-deployment-group
      ServiceRoleArn: !GetAtt CodeDeployServiceRole.Arn
      AutoScalingGroups: [!Ref AutoScalingGroup]
      DeploymentStyle: {DeploymentType: BLUE_GREEN, DeploymentOption: WITH_TRAFFIC_CONTROL}
      BlueGreenDeploymentConfiguration:
        DeploymentReadyOption: {ActionOnTimeout: CONTINUE_DEPLOYMENT}
        GreenFleetProvisioningOption: {Action: COPY_AUTO_SCALING_GROUP}
        TerminateBlueInstancesOnDeploymentSuccess: {Action: TERMINATE, TerminationWaitTimeInMinutes: 5}
      LoadBalancerInfo:
        TargetGroupInfoList: [{Name: !GetAtt TargetGroup.TargetGroupName}]
Outputs:
  WebsiteURL:
    Description: The application's URL
    Value: !Sub 'http://\${LoadBalancer.DNSName}'
  TargetGroupName:
    Value: !GetAtt TargetGroup.TargetGroupName
    Export: {Name: !Sub '\${AWS::StackName}-TargetGroup'}
`;

const knownTypes = new Set([
  'AWS::EC2::VPC',
  'AWS::EC2::InternetGateway',
  'AWS::EC2::VPCGatewayAttachment',
  'AWS::EC2::Subnet',
  'AWS::EC2::RouteTable',
  'AWS::EC2::Route',
  'AWS::EC2::SecurityGroup',
  'AWS::ElasticLoadBalancingV2::LoadBalancer',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::IAM::Role',
  'AWS::IAM::InstanceProfile',
  'AWS::EC2::LaunchTemplate',
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::CodeDeploy::Application',
  'AWS::CodeDeploy::DeploymentGroup',
]);

/** What the providers would report once each resource exists. */
const created: Record<string, FakeResource> = {
  VPC: { ref: 'vpc-0a1', attributes: { CidrBlock: '10.0.0.0/16' } },
  InternetGateway: { ref: 'igw-0a1' },
  GatewayAttachment: { ref: 'IGW|vpc-0a1' },
  SubnetA: { ref: 'subnet-0a' },
  SubnetB: { ref: 'subnet-0b' },
  RouteTable: { ref: 'rtb-0a1' },
  DefaultRoute: { ref: 'rtb-0a1|0.0.0.0/0' },
  SecurityGroup: { ref: 'sg-0a1', attributes: { GroupId: 'sg-0a1' } },
  LoadBalancer: {
    ref: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/aws-sa-LoadB-1/50dc6c495c0c9188',
    attributes: { DNSName: 'aws-sa-LoadB-1-1234567890.us-east-1.elb.amazonaws.com' },
  },
  TargetGroup: {
    ref: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/aws-sa-Targe-1/6d0ecf831eec9f09',
    attributes: { TargetGroupName: 'aws-sa-Targe-1' },
  },
  Listener: { ref: 'arn:listener' },
  InstanceRole: { ref: 'aws-sample-app-InstanceRole-ABCDEFGHIJKL' },
  InstanceProfile: {
    ref: 'aws-sample-app-InstanceProfile-MNOPQRSTUVWX',
    attributes: {
      Arn: 'arn:aws:iam::123456789012:instance-profile/aws-sample-app-InstanceProfile-MNOPQRSTUVWX',
    },
  },
  CodeDeployServiceRole: {
    ref: 'aws-sample-app-CodeDeployServiceRole-1',
    attributes: { Arn: 'arn:aws:iam::123456789012:role/aws-sample-app-CodeDeployServiceRole-1' },
  },
  LaunchTemplate: { ref: 'lt-0a1', attributes: { LatestVersionNumber: '1' } },
  AutoScalingGroup: { ref: 'aws-sample-app-AutoScalingGroup-1' },
  Application: { ref: 'aws-toolkit-for-azure-devops' },
};

test('the sample app parses, needs CAPABILITY_IAM and lists its parameters', () => {
  const template = parseTemplate(SAMPLE_APP);
  const summary = summarize(template, (type) => knownTypes.has(type));
  assert.deepEqual(summary.capabilities, ['CAPABILITY_IAM']);
  assert.equal(
    summary.capabilitiesReason,
    'The following resource(s) require capabilities: [AWS::IAM::Role, AWS::IAM::InstanceProfile]',
  );
  assert.deepEqual(
    summary.parameters.map((parameter) => [parameter.key, parameter.defaultValue]),
    [
      ['InstanceType', 't3.micro'],
      ['LatestAmiId', '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'],
      ['VpcCidr', '10.0.0.0/16'],
      ['EnableHttps', 'false'],
    ],
  );
});

test('the sample app creates in dependency waves', () => {
  const template = parseTemplate(SAMPLE_APP);
  const parameters = resolveParameters(template, []);
  const conditions = evaluateConditions(template, { ...fakeContext(), parameters: parameters.values });
  assert.deepEqual(conditions, new Map([['UseHttps', false]]));
  const waves = creationWaves(dependencyGraph(template, conditions));
  assert.deepEqual(waves, [
    ['VPC', 'InternetGateway', 'InstanceRole', 'CodeDeployServiceRole', 'Application'],
    [
      'GatewayAttachment',
      'SubnetA',
      'SubnetB',
      'RouteTable',
      'SecurityGroup',
      'TargetGroup',
      'InstanceProfile',
    ],
    ['DefaultRoute', 'LoadBalancer', 'LaunchTemplate'],
    ['Listener', 'AutoScalingGroup'],
    ['DeploymentGroup'],
  ]);
  assert.equal(waves.flat().length, template.resources.size);
});

test('the sample app evaluates: properties as providers get them, and the WebsiteURL output', () => {
  const template = parseTemplate(SAMPLE_APP);
  const parameters = resolveParameters(template, [{ key: 'EnableHttps', value: 'true' }]);
  const conditions = evaluateConditions(template, { ...fakeContext(), parameters: parameters.values });
  const context = fakeContext({
    template,
    parameters: Object.fromEntries(parameters.values),
    conditions: Object.fromEntries(conditions),
    resources: created,
  });
  const properties = (logicalId: string): unknown =>
    resolveValue(template.resources.get(logicalId)?.properties, context);

  assert.deepEqual(properties('SubnetB'), {
    VpcId: 'vpc-0a1',
    CidrBlock: '10.0.1.0/24',
    AvailabilityZone: 'us-east-1b',
    MapPublicIpOnLaunch: true,
  });
  assert.deepEqual(
    (properties('SecurityGroup') as { SecurityGroupIngress: unknown[] }).SecurityGroupIngress,
    [
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' },
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0' },
    ],
  );
  const launchTemplate = properties('LaunchTemplate') as {
    LaunchTemplateData: { ImageId: string; UserData: string; IamInstanceProfile: { Arn: string } };
  };
  assert.equal(
    launchTemplate.LaunchTemplateData.ImageId,
    '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  );
  assert.match(
    Buffer.from(launchTemplate.LaunchTemplateData.UserData, 'base64').toString(),
    /curl -O https:\/\/aws-codedeploy-us-east-1\.s3\.us-east-1\.amazonaws\.com\/latest\/install\n/,
  );
  assert.equal(
    launchTemplate.LaunchTemplateData.IamInstanceProfile.Arn,
    'arn:aws:iam::123456789012:instance-profile/aws-sample-app-InstanceProfile-MNOPQRSTUVWX',
  );
  assert.deepEqual(properties('DeploymentGroup'), {
    ApplicationName: 'aws-toolkit-for-azure-devops',
    DeploymentGroupName: 'my-sample-bg-deployment-group',
    ServiceRoleArn: 'arn:aws:iam::123456789012:role/aws-sample-app-CodeDeployServiceRole-1',
    AutoScalingGroups: ['aws-sample-app-AutoScalingGroup-1'],
    DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
    BlueGreenDeploymentConfiguration: {
      DeploymentReadyOption: { ActionOnTimeout: 'CONTINUE_DEPLOYMENT' },
      GreenFleetProvisioningOption: { Action: 'COPY_AUTO_SCALING_GROUP' },
      TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 5 },
    },
    LoadBalancerInfo: { TargetGroupInfoList: [{ Name: 'aws-sa-Targe-1' }] },
  });

  const output = template.outputs.get('WebsiteURL');
  assert.equal(
    resolveValue(output?.value, context),
    'http://aws-sa-LoadB-1-1234567890.us-east-1.elb.amazonaws.com',
  );
  assert.equal(
    resolveValue(template.outputs.get('TargetGroupName')?.exportName, context),
    'aws-sample-app-TargetGroup',
  );
});
