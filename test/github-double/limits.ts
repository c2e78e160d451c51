/**
 * Size limits GitHub enforces on what clients write, with the 422 answers GitHub gives. Where each comes from
 * is listed in the README ("Limits"); the honesty test replays each as a case the double must refuse.
 */
import { validationFailed } from './http.js';

/** Issue and comment bodies: counted in characters (Unicode code points). */
export const MAX_BODY_CHARACTERS = 65_536;
/** Issue (and pull request) titles, through the REST API. */
export const MAX_TITLE_CHARACTERS = 256;
/** Check-run `output.summary` and `output.text`: counted in UTF-8 bytes, not characters. */
export const MAX_CHECK_OUTPUT_BYTES = 65_535;

const characters = (text: string) => [...text].length;

export function assertIssueTitle(title: string | undefined): void {
  if (title && characters(title) > MAX_TITLE_CHARACTERS) {
    throw validationFailed([{ resource: 'Issue', code: 'custom', field: 'title', message: `title is too long (maximum is ${MAX_TITLE_CHARACTERS} characters)` }]);
  }
}

export function assertIssueBody(body: string | null | undefined): void {
  if (body && characters(body) > MAX_BODY_CHARACTERS) {
    throw validationFailed([{ resource: 'Issue', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY_CHARACTERS} characters)` }]);
  }
}

/** Creating a comment is refused in another shape (field `data`, capitalised message) than editing one. */
export function assertCommentBody(body: string, change: 'create' | 'edit'): void {
  if (characters(body) <= MAX_BODY_CHARACTERS) return;
  throw validationFailed([change === 'create'
    ? { resource: 'IssueComment', code: 'unprocessable', field: 'data', message: `Body is too long (maximum is ${MAX_BODY_CHARACTERS} characters)` }
    : { resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY_CHARACTERS} characters)` }]);
}

/** The field is named without its `output.` prefix in GitHub's answer. */
export function checkOutputTooLong(field: 'summary' | 'text', value: string) {
  return Buffer.byteLength(value, 'utf8') > MAX_CHECK_OUTPUT_BYTES
    ? { resource: 'CheckRun', code: 'custom' as const, field, message: `${field} exceeds a maximum bytesize of ${MAX_CHECK_OUTPUT_BYTES}` }
    : undefined;
}

/** A check-run annotation's `title`, in characters. */
export const MAX_ANNOTATION_TITLE_CHARACTERS = 255;
/** A check-run annotation's `message` and `raw_details`: "64 KB". */
export const MAX_ANNOTATION_TEXT_BYTES = 64 * 1024;

const isLineNumber = (value: unknown) => value === undefined || (Number.isInteger(value) && (value as number) >= 1);

/**
 * Whether an annotation breaks a documented rule: lines and columns count from 1, columns only on a single
 * line, the title and texts within their sizes. GitHub then refuses the whole list without naming the rule.
 */
export function annotationBreaksLimits(annotation: Record<string, unknown>): boolean {
  const { start_line: startLine, end_line: endLine, start_column: startColumn, end_column: endColumn, title, message, raw_details: rawDetails } = annotation;
  if (![startLine, endLine, startColumn, endColumn].every(isLineNumber)) return true;
  if ((startColumn !== undefined || endColumn !== undefined) && startLine !== endLine) return true;
  if (typeof title === 'string' && characters(title) > MAX_ANNOTATION_TITLE_CHARACTERS) return true;
  return [message, rawDetails].some((text) => typeof text === 'string' && Buffer.byteLength(text, 'utf8') > MAX_ANNOTATION_TEXT_BYTES);
}

export const invalidAnnotations = () => ({ resource: 'CheckRun', code: 'invalid' as const, field: 'annotations' });
