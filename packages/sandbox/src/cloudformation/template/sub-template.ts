/** One piece of an Fn::Sub string: literal text, or a `${Name}` / `${Resource.Attribute}` variable. */
export type SubSegment = { kind: 'text'; text: string } | { kind: 'variable'; name: string };

/**
 * Splits an Fn::Sub string. `${!Literal}` is AWS's escape and yields the text `${Literal}`; a `$` or `${`
 * without a closing brace is ordinary text, as in AWS.
 */
export function parseSubString(source: string): SubSegment[] {
  const segments: SubSegment[] = [];
  let text = '';
  let index = 0;
  while (index < source.length) {
    const start = source.indexOf('${', index);
    const end = start < 0 ? -1 : source.indexOf('}', start + 2);
    if (start < 0 || end < 0) {
      text += source.slice(index);
      break;
    }
    text += source.slice(index, start);
    const inner = source.slice(start + 2, end);
    if (inner.startsWith('!')) {
      text += '${' + inner.slice(1) + '}';
    } else {
      if (text) segments.push({ kind: 'text', text });
      text = '';
      segments.push({ kind: 'variable', name: inner.trim() });
    }
    index = end + 1;
  }
  if (text) segments.push({ kind: 'text', text });
  return segments;
}

/** A variable's target: `Res.Attr` is Fn::GetAtt, anything else (`Param`, `Res`, `AWS::Region`) is Ref. */
export function splitSubVariable(name: string): { target: string; attribute?: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { target: name } : { target: name.slice(0, dot), attribute: name.slice(dot + 1) };
}
