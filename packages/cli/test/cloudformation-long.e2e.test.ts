// A stack operation lasting over a minute while every session lasts 20 s: the engine's poller must refresh
// its credentials (re-assume with a fresh token) along the way, as DESIGN principle 4 promises.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { leakedSecrets, managedIdentityArgs, runCli, startTestSandbox, type TestSandbox } from './support';

let t: TestSandbox;

before(async () => {
  // One resource that takes 70 simulated (= real) seconds to create.
  t = await startTestSandbox({ maxSessionSeconds: 20, providerDelaySeconds: 70 });
});
after(() => t.sandbox.close());

test('a 70 s stack creation succeeds although the credentials expire every 20 s', async (context) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyless-cfn-long-'));
  context.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'slow.yml');
  writeFileSync(
    path,
    'Resources:\n  Handle:\n    Type: AWS::CloudFormation::WaitConditionHandle\nOutputs:\n  Done:\n    Value: yes\n',
  );
  const started = Date.now();
  const result = await runCli(
    ['cloudformation', 'deploy', ...managedIdentityArgs(t), '--stack-name', 'slow', '--template-file', path],
    {
      timeoutMs: 240_000,
    },
  );
  const elapsed = Date.now() - started;
  assert.equal(result.code, 0, result.stderr);
  assert.ok(elapsed > 60_000, `the creation took ${elapsed} ms; it must outlast several sessions`);
  assert.match(result.stdout, /^Done=yes$/m);
  const assumptions = t.logs.filter((line) => /AssumeRoleWithWebIdentity/.test(line) && /-> 200/.test(line));
  assert.ok(assumptions.length >= 3, `expected several assumptions over 70 s, saw ${assumptions.length}`);
  assert.deepEqual(leakedSecrets([result.stdout, result.stderr, ...t.logs], t.secrets), []);
});
