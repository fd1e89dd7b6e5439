import { AwsError } from '../aws/errors';

// Codes, statuses and wordings as S3 answers them (cross-checked against moto's s3/exceptions.py and S3's
// published error list). The extra elements are the ones S3 puts beside Code/Message in <Error>.

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PUT_SIZE = 5 * 1024 * 1024 * 1024;

export const s3Errors = {
  noSuchBucket: (bucket: string) =>
    new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, 'Sender', {
      BucketName: bucket,
    }),
  noSuchKey: (key: string) =>
    new AwsError('NoSuchKey', 'The specified key does not exist.', 404, 'Sender', { Key: key }),
  bucketNotEmpty: (bucket: string) =>
    new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, 'Sender', {
      BucketName: bucket,
    }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new AwsError(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      'Sender',
      { BucketName: bucket },
    ),
  invalidBucketName: (bucket: string) =>
    new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, 'Sender', {
      BucketName: bucket,
    }),
  invalidLocationConstraint: () =>
    new AwsError('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400),
  noSuchUpload: (uploadId: string) =>
    new AwsError(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
      'Sender',
      { UploadId: uploadId },
    ),
  invalidPart: (uploadId: string, partNumber: number, etag: string) =>
    new AwsError(
      'InvalidPart',
      "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
      400,
      'Sender',
      { UploadId: uploadId, PartNumber: String(partNumber), ETag: etag },
    ),
  invalidPartOrder: (uploadId: string) =>
    new AwsError(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      400,
      'Sender',
      { UploadId: uploadId },
    ),
  entityTooSmall: (proposedSize: number, partNumber: number, etag: string) =>
    new AwsError(
      'EntityTooSmall',
      'Your proposed upload is smaller than the minimum allowed object size.',
      400,
      'Sender',
      {
        ProposedSize: String(proposedSize),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(partNumber),
        ETag: etag,
      },
    ),
  entityTooLarge: (proposedSize: number) =>
    new AwsError(
      'EntityTooLarge',
      'Your proposed upload exceeds the maximum allowed object size.',
      400,
      'Sender',
      {
        ProposedSize: String(proposedSize),
        MaxSizeAllowed: String(MAX_PUT_SIZE),
      },
    ),
  invalidRange: (range: string, size: number) =>
    new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, 'Sender', {
      RangeRequested: range,
      ActualObjectSize: String(size),
    }),
  badDigest: (expected: string, calculated: string) =>
    new AwsError(
      'BadDigest',
      'The Content-MD5 you specified did not match what we received.',
      400,
      'Sender',
      {
        ExpectedDigest: expected,
        CalculatedDigest: calculated,
      },
    ),
  invalidDigest: (digest: string) =>
    new AwsError('InvalidDigest', 'The Content-MD5 you specified is not valid.', 400, 'Sender', {
      'Content-MD5': digest,
    }),
  incompleteBody: () =>
    new AwsError(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header',
      400,
    ),
  missingContentLength: () =>
    new AwsError('MissingContentLength', 'You must provide the Content-Length HTTP header.', 411),
  malformedXml: () =>
    new AwsError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    ),
  methodNotAllowed: (method: string, resourceType: 'BUCKET' | 'OBJECT' | 'SERVICE') =>
    new AwsError(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      405,
      'Sender',
      {
        Method: method,
        ResourceType: resourceType,
      },
    ),
  preconditionFailed: (condition: string) =>
    new AwsError(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
      412,
      'Sender',
      {
        Condition: condition,
      },
    ),
  invalidArgument: (message: string, name: string, value: string) =>
    new AwsError('InvalidArgument', message, 400, 'Sender', { ArgumentName: name, ArgumentValue: value }),
  invalidRequest: (message: string) => new AwsError('InvalidRequest', message, 400),
  notImplemented: (what: string) =>
    new AwsError(
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
      501,
      'Receiver',
      { Header: what },
    ),
};
