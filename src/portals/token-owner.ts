/**
 * Whose token is this? One `batch` to the portal — at an endpoint we already trust (stored, or
 * named by the OAuth server), never one a request names — asks `app.info` (which application
 * the token was issued to) and `profile` (which user, and whether an administrator).
 *
 * Plain fetch rather than the portal client: the token is not ours (an installer's or a page
 * user's), so it must not enter our refresh, and the portal may not be ours yet. The request is
 * journalled like any other (rest-journal.ts), under the member id the caller vouches for.
 */
import { errorOf, type JournalTarget } from './rest-journal.ts';

export interface AppInfo {
  ID?: number | string;
  CODE?: string;
  VERSION?: number | string;
  STATUS?: string;
  INSTALLED?: boolean;
  LANGUAGE_ID?: string;
  PAYMENT_EXPIRED?: string;
  DAYS?: number | string | null;
}

export interface TokenOwner {
  app: AppInfo;
  userId: number;
  isAdmin: boolean;
}

/** The portal did not vouch for the token: refused, unreachable or an answer we cannot read. */
export class TokenNotVouched extends Error {
  constructor(
    message: string,
    /** false when the portal could not tell (unreachable, unreadable, its own 5xx): the token may yet be good */
    readonly refusedByPortal = true,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 15_000;

export async function tokenOwner(clientEndpoint: string, accessToken: string, journalled: JournalTarget): Promise<TokenOwner> {
  const params = { auth: accessToken, halt: 0, cmd: { app: 'app.info', user: 'profile' } };
  const started = Date.now();
  const line = (status: number, answer: unknown, error?: string) =>
    journalled.journal.record({ memberId: journalled.memberId, method: 'batch', params, status, answer, error, durationMs: Date.now() - started });
  let body: { result?: { result?: Record<string, unknown> | unknown[]; result_error?: Record<string, unknown> | unknown[] }; error?: string };
  let status = 0;
  try {
    const response = await fetch(new URL('batch', clientEndpoint.endsWith('/') ? clientEndpoint : `${clientEndpoint}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
    status = response.status;
    body = (await response.json()) as typeof body;
    line(status, body, errorOf(body));
    if (!response.ok) throw new TokenNotVouched(`the portal answered ${response.status} ${body.error ?? ''}`.trim(), response.status < 500);
  } catch (error) {
    if (error instanceof TokenNotVouched) throw error;
    line(status, undefined, `${status ? 'UNREADABLE_ANSWER' : 'NETWORK_ERROR'}: ${(error as Error).message}`);
    throw new TokenNotVouched(`the portal could not be asked: ${(error as Error).message}`, false);
  }
  // A batch keys every answer by its command (a failed one leaves a hole), as an object or a list.
  const results = (body.result?.result ?? {}) as Record<string, unknown>;
  const app = results.app as AppInfo | undefined;
  const user = results.user as { ID?: unknown; ADMIN?: unknown } | undefined;
  if (!app || typeof app !== 'object' || !user || typeof user !== 'object') {
    const errors = JSON.stringify(body.result?.result_error ?? body.error ?? 'no result').slice(0, 200);
    throw new TokenNotVouched(`the portal did not accept the token: ${errors}`);
  }
  const userId = Number(user.ID);
  if (!Number.isInteger(userId) || userId <= 0) throw new TokenNotVouched('the portal named no user for the token');
  return { app, userId, isAdmin: user.ADMIN === true || user.ADMIN === 'Y' };
}
