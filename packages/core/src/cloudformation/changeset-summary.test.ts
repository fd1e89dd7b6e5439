import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeChanges } from './changeset-summary';

describe('summarizeChanges', () => {
  const changes = [
    {
      Type: 'Resource' as const,
      ResourceChange: { Action: 'Add' as const, LogicalResourceId: 'Queue', ResourceType: 'AWS::SQS::Queue' },
    },
    {
      Type: 'Resource' as const,
      ResourceChange: {
        Action: 'Modify' as const,
        LogicalResourceId: 'Bucket',
        ResourceType: 'AWS::S3::Bucket',
        Replacement: 'True' as const,
      },
    },
    {
      Type: 'Resource' as const,
      ResourceChange: {
        Action: 'Modify' as const,
        LogicalResourceId: 'Role|Odd',
        ResourceType: 'AWS::IAM::Role',
        Replacement: 'Conditional' as const,
      },
    },
    {
      Type: 'Resource' as const,
      ResourceChange: {
        Action: 'Remove' as const,
        LogicalResourceId: 'Old',
        ResourceType: 'AWS::SNS::Topic',
      },
    },
  ];

  it('renders aligned plain text with replacement notes', () => {
    const summary = summarizeChanges('keyless-42', 'web', changes);
    assert.deepEqual(summary.counts, { add: 1, modify: 2, remove: 1, other: 0 });
    assert.equal(
      summary.text,
      [
        'Change set keyless-42 for stack web: 1 to add, 2 to modify, 1 to remove',
        '  Add     Queue     AWS::SQS::Queue',
        '  Modify  Bucket    AWS::S3::Bucket  REPLACED',
        '  Modify  Role|Odd  AWS::IAM::Role   may be replaced',
        '  Remove  Old       AWS::SNS::Topic',
      ].join('\n'),
    );
  });

  it('renders a Markdown table, escaping pipes', () => {
    const { markdown } = summarizeChanges('keyless-42', 'web', changes);
    assert.equal(
      markdown,
      [
        '**Change set keyless-42 for stack web: 1 to add, 2 to modify, 1 to remove**',
        '',
        '| Action | Logical ID | Type | Replacement |',
        '| --- | --- | --- | --- |',
        '| Add | Queue | AWS::SQS::Queue |  |',
        '| Modify | Bucket | AWS::S3::Bucket | True |',
        '| Modify | Role\\|Odd | AWS::IAM::Role | Conditional |',
        '| Remove | Old | AWS::SNS::Topic |  |',
      ].join('\n'),
    );
  });

  it('an empty change set is just the headline', () => {
    const summary = summarizeChanges('c', 's', []);
    assert.equal(summary.text, 'Change set c for stack s: 0 to add, 0 to modify, 0 to remove');
    assert.equal(summary.markdown, '**Change set c for stack s: 0 to add, 0 to modify, 0 to remove**');
  });
});
