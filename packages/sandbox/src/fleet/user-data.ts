import { spawn } from 'node:child_process';
import { chmod, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Instance } from './types';

/**
 * Runs an instance's user data the way cloud-init's scripts-user module does: the decoded text is written to
 * /var/lib/cloud/instance/user-data.txt and, when it is a shell script, run once from
 * /var/lib/cloud/instance/scripts/part-001 with its output appended to /var/log/cloud-init-output.log — all under
 * the instance's root. The process gets its own process group so the instance can kill everything it starts.
 *
 * Scripts learn where "/" and "port 80" are from KEYLESS_INSTANCE_ROOT and KEYLESS_INSTANCE_PORT (unset on a real
 * instance, so `${KEYLESS_INSTANCE_ROOT:-}/var/www` works in both places).
 */
export async function startUserData(options: {
  instance: Instance;
  userDataBase64: string;
  log(line: string): void;
  trackProcessGroup(pid: number): void;
}): Promise<void> {
  const { instance, log } = options;
  const text = Buffer.from(options.userDataBase64, 'base64').toString('utf8');
  const cloudDir = join(instance.rootDir, 'var', 'lib', 'cloud', 'instance');
  await writeFile(join(cloudDir, 'user-data.txt'), text);
  const outputLog = join(instance.rootDir, 'var', 'log', 'cloud-init-output.log');
  if (/^#cloud-config|^#include|^Content-Type:/i.test(text.trimStart())) {
    // Cloud-config and MIME parts configure cloud-init itself; there is no cloud-init here to apply them.
    await writeFile(outputLog, 'keyless sandbox: user data is not a shell script; not run\n', { flag: 'a' });
    log(`ec2 ${instance.instanceId}: user data is not a shell script; not run`);
    return;
  }
  const script = join(cloudDir, 'scripts', 'part-001');
  await writeFile(script, text);
  await chmod(script, 0o755);

  const output = await open(outputLog, 'a');
  try {
    // A script with its own interpreter line runs under it, as cloud-init executes the part; otherwise bash.
    const [command, args] = text.startsWith('#!') ? [script, []] : ['bash', [script]];
    const child = spawn(command, args, {
      cwd: instance.rootDir,
      detached: true,
      stdio: ['ignore', output.fd, output.fd],
      env: {
        PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: join(instance.rootDir, 'root'),
        KEYLESS_INSTANCE_ROOT: instance.rootDir,
        KEYLESS_INSTANCE_PORT: String(instance.port),
        KEYLESS_INSTANCE_ID: instance.instanceId,
      },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.on('error', (error) => log(`ec2 ${instance.instanceId}: user data failed: ${error.message}`));
    if (child.pid !== undefined) options.trackProcessGroup(child.pid);
    child.unref();
    child.once('exit', (code, signal) => {
      log(`ec2 ${instance.instanceId}: user data exited with ${signal ?? code}`);
    });
  } finally {
    await output.close();
  }
}
