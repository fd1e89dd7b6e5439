import { Pair, Scalar, YAMLMap } from 'yaml';
import type { CollectionTag, ScalarTag, YAMLSeq } from 'yaml';

/**
 * CloudFormation's YAML short forms, each mapped to the long form the rest of the engine understands
 * (`!Ref X` → `{ Ref: X }`, `!GetAtt A.B` → `{ 'Fn::GetAtt': [A, B] }`, `!Condition C` → `{ Condition: C }`).
 *
 * Every tag is registered for scalars, sequences and mappings alike: a short form written with the wrong
 * shape (`!Ref [a]`) must reach the evaluator, which rejects it with AWS's message, rather than silently
 * staying a plain list.
 */
const FUNCTION_FOR_TAG: Record<string, string> = {
  '!Ref': 'Ref',
  '!Condition': 'Condition',
  '!Sub': 'Fn::Sub',
  '!GetAtt': 'Fn::GetAtt',
  '!Join': 'Fn::Join',
  '!If': 'Fn::If',
  '!Select': 'Fn::Select',
  '!Split': 'Fn::Split',
  '!FindInMap': 'Fn::FindInMap',
  '!Base64': 'Fn::Base64',
  '!ImportValue': 'Fn::ImportValue',
  '!GetAZs': 'Fn::GetAZs',
  '!Equals': 'Fn::Equals',
  '!And': 'Fn::And',
  '!Or': 'Fn::Or',
  '!Not': 'Fn::Not',
  '!Cidr': 'Fn::Cidr',
  // Macros are not run by the sandbox; the evaluator refuses Fn::Transform with a clear message.
  '!Transform': 'Fn::Transform',
};

/** Wraps an already-composed node so that `toJS` still expands aliases and nested tags inside it. */
function longForm(functionName: string, argument: YAMLMap | YAMLSeq): YAMLMap {
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar(functionName), argument));
  return map;
}

function scalarTag(tag: string, functionName: string): ScalarTag {
  return {
    tag,
    resolve(source: string): unknown {
      if (functionName === 'Fn::GetAtt') {
        // AWS splits at the first dot only: `!GetAtt Stack.Outputs.Name` is attribute `Outputs.Name`.
        const dot = source.indexOf('.');
        return { 'Fn::GetAtt': dot < 0 ? [source] : [source.slice(0, dot), source.slice(dot + 1)] };
      }
      return { [functionName]: source };
    },
  };
}

function collectionTag(tag: string, functionName: string, collection: 'map' | 'seq'): CollectionTag {
  return {
    tag,
    collection,
    resolve(value: YAMLMap.Parsed | YAMLSeq.Parsed): unknown {
      return longForm(functionName, value);
    },
  };
}

export const cloudFormationTags: Array<ScalarTag | CollectionTag> = Object.entries(FUNCTION_FOR_TAG).flatMap(
  ([tag, functionName]) => [
    scalarTag(tag, functionName),
    collectionTag(tag, functionName, 'seq'),
    collectionTag(tag, functionName, 'map'),
  ],
);
