import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, type RunningSandbox } from '../src/index';
import {
  assertRefused,
  assumeOnWire as assumeOnWireAt,
  createForgeKit,
  forgedTokenCases,
  forgedTokenConfig,
  type ForgeKit,
  type WireAnswer,
} from './forged-token-cases';

/**
 * Every way a token can be wrong, sent to AssumeRoleWithWebIdentity on the wire (unsigned POST, like the SDK and
 * CLI). Each must be refused with AWS's exact code, HTTP status and message, and none may yield credentials.
 * The battery itself is in forged-token-cases.ts (the hostile suite replays it).
 */

let sandbox: RunningSandbox;
let kit: ForgeKit;
const logs: string[] = [];
const secretsSeen: string[] = [];

before(async () => {
  sandbox = await startSandbox({ config: forgedTokenConfig(), port: 0, log: (line) => logs.push(line) });
  kit = await createForgeKit(sandbox);
});

after(async () => {
  await sandbox.close();
});

async function assumeOnWire(token: string, params: Record<string, string> = {}): Promise<WireAnswer> {
  secretsSeen.push(token);
  return assumeOnWireAt(sandbox.url, token, params);
}

test('control: a genuine token is accepted (the battery below is not refusing everything)', async () => {
  const answer = await assumeOnWire(await kit.mint(kit.validClaims()));
  assert.equal(answer.status, 200, answer.body);
  assert.match(
    answer.body,
    /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleWithWebIdentityResult>/,
  );
  for (const secret of ['AccessKeyId', 'SecretAccessKey', 'SessionToken']) {
    secretsSeen.push(new RegExp(`<${secret}>([^<]+)</${secret}>`).exec(answer.body)?.[1] ?? '');
  }
});

test('control: exp within the 5-minute skew is still accepted', async () => {
  const now = kit.now();
  const answer = await assumeOnWire(
    await kit.mint(kit.validClaims({ iat: now - 1200, nbf: now - 1200, exp: now - 120 })),
  );
  assert.equal(answer.status, 200, answer.body);
});

for (const forged of forgedTokenCases) {
  test(forged.name, async () => {
    for (const attempt of await forged.attempts(kit)) {
      assertRefused(await assumeOnWire(attempt.token, attempt.params), attempt);
    }
    if (forged.logPattern) {
      const pattern = forged.logPattern;
      assert.ok(
        logs.some((line) => pattern.test(line)),
        `the sandbox log says why (${pattern})`,
      );
    }
  });
}

test('no token, forged or genuine, and no issued credential reaches the sandbox log', () => {
  assert.ok(secretsSeen.length > 20);
  const text = logs.join('\n');
  for (const secret of secretsSeen.filter((s) => s.length >= 8)) {
    for (const form of [secret, Buffer.from(secret).toString('base64'), encodeURIComponent(secret)]) {
      assert.ok(!text.includes(form), `secret ${secret.slice(0, 8)}… leaked into the log`);
    }
  }
});
