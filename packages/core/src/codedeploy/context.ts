import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import { buildClientConfig } from '../aws/client-config';
import { createEngineBase, type EngineBase, type EngineContext } from '../aws/engine';

export { call } from '../aws/engine';

/** What the CodeDeploy engine needs from its caller; `cwd` is the base for relative bundle paths. */
export interface CodeDeployContext extends EngineContext {
  /** Pre-built clients (tests and benchmarks). */
  clients?: { codedeploy?: CodeDeployClient; s3?: S3Client };
}

export interface CodeDeployEngine extends EngineBase {
  codedeploy: CodeDeployClient;
  s3: S3Client;
}

/** The S3 client bundles go through: path-style with an endpoint override, no JS-side CRC32 of every part. */
export function bundleS3Client(
  config: ReturnType<typeof buildClientConfig>,
  endpointOverridden: boolean,
): S3Client {
  return new S3Client({
    ...config,
    // A custom endpoint (sandbox, LocalStack, MinIO) rarely resolves bucket subdomains.
    forcePathStyle: endpointOverridden,
    // The SDK's default computes a CRC32 of every part in JavaScript; measured to cost more CPU than the
    // upload itself on 2-core agents. S3 still checks Content-MD5/SigV4 payload integrity where required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createCodeDeployEngine(ctx: CodeDeployContext): CodeDeployEngine {
  const { base, clientInput, s3Endpoint } = createEngineBase(ctx);
  return {
    ...base,
    codedeploy: ctx.clients?.codedeploy ?? new CodeDeployClient(buildClientConfig('codedeploy', clientInput)),
    s3:
      ctx.clients?.s3 ??
      bundleS3Client(
        buildClientConfig('s3', { ...clientInput, requestTimeoutMs: 300_000 }),
        s3Endpoint !== undefined,
      ),
  };
}
