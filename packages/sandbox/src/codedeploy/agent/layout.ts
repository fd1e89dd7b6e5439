import { isAbsolute, join, posix, relative, resolve } from 'node:path';

/**
 * Where the agent keeps things inside one instance, and the mapping between what the instance sees ("/…") and
 * the host directory acting as its root. Everything the agent writes into a file or a message uses the
 * instance's view, so logs, cleanup lists and diagnostics read exactly as on a real box.
 */
export const DEPLOYMENT_ROOT = '/opt/codedeploy-agent/deployment-root';
export const AGENT_LOG = '/var/log/aws/codedeploy-agent/codedeploy-agent.log';
/** command_executor.rb ARCHIVES_TO_RETAIN. */
export const ARCHIVES_TO_RETAIN = 5;

export class PathEscapesRootError extends Error {}

export class InstanceLayout {
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = resolve(rootDir);
  }

  /**
   * Re-roots an instance path under rootDir. Relative paths are taken from "/" (the agent's cwd). A path that
   * would leave the root through ".." is refused: the host outside the instance is not the instance's to touch.
   */
  hostPath(instancePath: string): string {
    const segments: string[] = [];
    for (const segment of instancePath.split('/')) {
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        // A real "/.." is "/", but a destination that climbs above the root means it targets the host.
        if (segments.pop() === undefined) throw new PathEscapesRootError(instancePath);
        continue;
      }
      segments.push(segment);
    }
    return join(this.rootDir, ...segments);
  }

  /** The instance's view of a host path inside rootDir. */
  instancePath(hostPath: string): string {
    const rel = relative(this.rootDir, resolve(hostPath));
    if (rel.startsWith('..') || isAbsolute(rel)) throw new PathEscapesRootError(hostPath);
    return `/${rel.split('\\').join('/')}`;
  }

  groupDir(deploymentGroupId: string): string {
    return this.hostPath(posix.join(DEPLOYMENT_ROOT, safeSegment(deploymentGroupId)));
  }

  deploymentDir(deploymentGroupId: string, deploymentId: string): string {
    return join(this.groupDir(deploymentGroupId), safeSegment(deploymentId));
  }

  instructionsDir(): string {
    return this.hostPath(posix.join(DEPLOYMENT_ROOT, 'deployment-instructions'));
  }

  lastSuccessfulInstallFile(deploymentGroupId: string): string {
    return join(this.instructionsDir(), `${safeSegment(deploymentGroupId)}_last_successful_install`);
  }

  cleanupFile(deploymentGroupId: string): string {
    return join(this.instructionsDir(), `${safeSegment(deploymentGroupId)}-cleanup`);
  }

  installFile(deploymentGroupId: string): string {
    return join(this.instructionsDir(), `${safeSegment(deploymentGroupId)}-install.json`);
  }

  agentLog(): string {
    return this.hostPath(AGENT_LOG);
  }
}

/** Files of one deployment's directory (deployment-root/<group>/<deployment>). */
export function deploymentFiles(deploymentDir: string): {
  bundle: string;
  archive: string;
  archiveTemp: string;
  scriptsLog: string;
} {
  return {
    bundle: join(deploymentDir, 'bundle.tar'),
    archive: join(deploymentDir, 'deployment-archive'),
    archiveTemp: join(deploymentDir, 'deployment-archive-temp'),
    scriptsLog: join(deploymentDir, 'logs', 'scripts.log'),
  };
}

/** Ids become directory names; one that could climb out of deployment-root is a bug upstream. */
function safeSegment(id: string): string {
  if (id === '' || id === '.' || id === '..' || id.includes('/') || id.includes('\0')) {
    throw new Error(`invalid id for a deployment-root directory name: ${JSON.stringify(id)}`);
  }
  return id;
}
