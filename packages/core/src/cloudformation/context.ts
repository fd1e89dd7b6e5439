import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { buildClientConfig } from '../aws/client-config';
import { createEngineBase, type EngineBase, type EngineContext } from '../aws/engine';

export { call } from '../aws/engine';

/** What the CloudFormation engine needs from its caller; `cwd` is the base for relative template paths. */
export interface CloudFormationContext extends EngineContext {
  /** Pre-built clients (tests and benchmarks). */
  clients?: { cloudformation?: CloudFormationClient; s3?: S3Client };
}

/** The engine's working set for one operation. */
export interface Engine extends EngineBase {
  cfn: CloudFormationClient;
  s3: S3Client;
  s3Endpoint?: string;
}

export function createEngine(ctx: CloudFormationContext): Engine {
  const { base, clientInput, s3Endpoint } = createEngineBase(ctx);
  const engine: Engine = {
    ...base,
    cfn:
      ctx.clients?.cloudformation ??
      new CloudFormationClient(buildClientConfig('cloudformation', clientInput)),
    // Path-style addressing: a custom endpoint (sandbox, LocalStack) rarely resolves bucket subdomains.
    s3:
      ctx.clients?.s3 ??
      new S3Client({ ...buildClientConfig('s3', clientInput), forcePathStyle: s3Endpoint !== undefined }),
  };
  if (s3Endpoint) engine.s3Endpoint = s3Endpoint;
  return engine;
}
