/** The REST journal's lines as the API gives them (GET /api/journal), and how a page shows one. */
export interface JournalLine {
  id: string;
  at: string;
  method: string;
  /** the request's parameters, redacted, as JSON text (cut to 8 KB) */
  params: string;
  /** HTTP status; 0 = no answer came */
  status: number;
  answer: string | null;
  error: string | null;
  durationMs: number;
  callId: string | null;
}

export interface JournalPage {
  entries: JournalLine[];
  next: string | null;
}

/** A line succeeded when the portal answered 200 without an error. */
export const succeeded = (line: JournalLine) => line.status === 200 && !line.error;

export const statusColor = (line: JournalLine) => (succeeded(line) ? 'air-primary-success' : line.status === 0 || line.status >= 500 ? 'air-primary-alert' : 'air-primary-warning');

/** JSON text indented for reading; text that is not JSON (an answer cut at 8 KB) as it is. */
export function readable(text: string | null): string {
  if (text === null || text === '') return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
