import { randomBytes } from 'node:crypto';
import { FakeHttpServer, type FakeReply, type RecordedRequest } from './http-fake';

export interface StsCall {
  action: string;
  params: URLSearchParams;
  request: RecordedRequest;
}

/** Issued credentials, so tests can scan output for every one of them. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * A loopback STS speaking the query protocol: AssumeRoleWithWebIdentity / AssumeRole answer with fresh
 * credentials valid for `sessionSeconds`, unless `next` queues an error reply. GetCallerIdentity is answered
 * without checking signatures (the real sandbox does that).
 */
export class FakeSts {
  readonly calls: StsCall[] = [];
  readonly issued: IssuedCredentials[] = [];
  /** Replies used (in order) before the default success. */
  readonly queued: FakeReply[] = [];
  sessionSeconds = 3600;
  account = '123456789012';
  private readonly server: FakeHttpServer;

  constructor() {
    this.server = new FakeHttpServer((request) => this.answer(request));
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  callsOf(action: string): StsCall[] {
    return this.calls.filter((call) => call.action === action);
  }

  private answer(request: RecordedRequest): FakeReply {
    const params = new URLSearchParams(request.body);
    const action = params.get('Action') ?? '';
    this.calls.push({ action, params, request });
    const queued = this.queued.shift();
    if (queued) return queued;
    if (action === 'GetCallerIdentity') {
      return xml(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::${this.account}:assumed-role/deploy/s</Arn><UserId>AROAEXAMPLE:s</UserId><Account>${this.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    }
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(120).toString('base64'),
      expiration: new Date(Date.now() + this.sessionSeconds * 1000),
    };
    this.issued.push(credentials);
    const roleArn = params.get('RoleArn') ?? '';
    const roleName = roleArn.split('/').pop() ?? 'role';
    const session = params.get('RoleSessionName') ?? 's';
    return xml(
      200,
      `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result><Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId><SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey><SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${credentials.expiration.toISOString()}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${this.account}:assumed-role/${roleName}/${session}</Arn><AssumedRoleId>AROAEXAMPLE:${session}</AssumedRoleId></AssumedRoleUser></${action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></${action}Response>`,
    );
  }
}

export function xml(status: number, body: string): FakeReply {
  return { status, body, headers: { 'Content-Type': 'text/xml' } };
}

/** An STS error reply exactly as AWS sends it. */
export function stsError(
  status: number,
  code: string,
  message: string,
  type: 'Sender' | 'Receiver' = 'Sender',
): FakeReply {
  return xml(
    status,
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${code}</Code>\n    <Message>${message}</Message>\n  </Error>\n  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n</ErrorResponse>\n`,
  );
}
