import { elbErrors } from './errors';

/**
 * A target group's Matcher.HttpCode: single codes, comma-separated codes and ranges ("200", "200,202",
 * "200-299"), each within 200-499 as ALB allows for HTTP health checks.
 */
export function parseMatcher(httpCode: string): (status: number) => boolean {
  const parts = httpCode.split(',').map((part) => part.trim());
  const ranges: Array<[number, number]> = [];
  for (const part of parts) {
    const match = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    const low = match ? Number(match[1]) : NaN;
    const high = match?.[2] !== undefined ? Number(match[2]) : low;
    if (!match || low < 200 || high > 499 || high < low)
      throw elbErrors.validation(
        `Health check matcher HTTP code '${httpCode}' must be within '200-499' inclusive`,
      );
    ranges.push([low, high]);
  }
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}
