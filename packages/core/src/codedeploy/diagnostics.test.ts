import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentInfo, ErrorCode } from '@aws-sdk/client-codedeploy';
import { deploymentFailure } from './diagnostics';

const info = (code: string, message: string): DeploymentInfo => ({
  deploymentId: 'd-ABCDEFGHI',
  applicationName: 'web',
  deploymentGroupName: 'prod',
  status: 'Failed',
  errorInformation: { code: code as ErrorCode, message },
});

test('the fix line fits the failure: a hung hook, files in the way, no instances, a failing script', () => {
  const timedOut = deploymentFailure(
    info('HEALTH_CONSTRAINTS', 'too many individual instances failed deployment'),
    [
      {
        instanceId: 'i-1',
        event: 'ApplicationStart',
        errorCode: 'ScriptTimedOut',
        scriptName: 'scripts/start.sh',
        message: 'Script at specified location: scripts/start.sh failed to complete in 60 seconds',
      },
    ],
    undefined,
    'us-east-1',
  );
  assert.match(timedOut.fix ?? '', /nohup … &.*or raise its timeout in appspec\.yml \(at most 3600 s\)/);

  const inTheWay = deploymentFailure(
    info('HEALTH_CONSTRAINTS', 'too many individual instances failed deployment'),
    [
      {
        instanceId: 'i-1',
        event: 'Install',
        errorCode: 'UnknownError',
        message:
          'The deployment failed because a specified file already exists at this location: /opt/app/server.js',
      },
    ],
    undefined,
    'us-east-1',
  );
  assert.match(inTheWay.fix ?? '', /file-exists behavior to OVERWRITE \(or RETAIN\)/);

  const none = deploymentFailure(
    info('NO_INSTANCES', 'The deployment failed because no instances were found for your deployment group.'),
    [],
    undefined,
    'us-east-1',
  );
  assert.match(none.fix ?? '', /tags or Auto Scaling groups match running instances/);

  const script = deploymentFailure(
    info('HEALTH_CONSTRAINTS', 'too many individual instances failed deployment'),
    [
      {
        instanceId: 'i-1',
        event: 'ValidateService',
        errorCode: 'ScriptFailed',
        scriptName: 'scripts/v.sh',
        exitCode: 3,
      },
    ],
    undefined,
    'us-east-1',
  );
  assert.match(script.fix ?? '', /^Correct the failing hook script shown above/);
});
