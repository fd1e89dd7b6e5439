import { cloudformationHelp } from './commands/cloudformation';
import { codedeployHelp } from './commands/codedeploy';
import { credentialsHelp } from './commands/credentials';
import { demoHelp } from './commands/demo';
import { execHelp } from './commands/exec';
import { s3Help } from './commands/s3';
import { sandboxHelp } from './commands/sandbox';
import { mainHelp } from './main';
import { pipelineHelp } from './commands/pipeline';

/** docs/cli.md is generated from the commands' own --help texts, so the two cannot drift. */
export function renderCliDocs(): string {
  const sections: Array<[string, string]> = [
    ['keyless', mainHelp],
    ['keyless credentials', credentialsHelp],
    ['keyless cloudformation', cloudformationHelp],
    ['keyless codedeploy', codedeployHelp],
    ['keyless s3', s3Help],
    ['keyless exec', execHelp],
    ['keyless sandbox', sandboxHelp],
    ['keyless pipeline', pipelineHelp],
    ['keyless demo', demoHelp],
  ];
  return [
    '# The `keyless` CLI',
    '',
    "<!-- Generated from the commands' --help texts by `npm run docs`; a test fails when this file is stale. -->",
    '',
    ...sections.flatMap(([title, help]) => [`## ${title}`, '', '```text', help, '```', '']),
  ].join('\n');
}
