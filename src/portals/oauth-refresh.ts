/**
 * The refresh_token grant, sent only to the OAuth server named in configuration: the client
 * secret never goes to a server_endpoint that a request merely claims.
 */
export interface OAuthSettings {
  oauthUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface FreshTokens {
  accessToken: string;
  refreshToken: string;
  /** unix seconds */
  expires: number;
  expiresIn: number;
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  scope: string;
  status: string;
  userId: number | null;
}

/** `invalid_grant` (dead refresh token), `invalid_client` (app gone), or a transport failure. */
export class OAuthRefreshError extends Error {
  constructor(
    readonly code: string,
    description: string,
    readonly status: number,
  ) {
    super(`${code}: ${description}`);
  }

  /** The portal needs an admin to open the app again; retrying cannot help. */
  get isFinal(): boolean {
    return ['invalid_grant', 'invalid_client', 'PAYMENT_REQUIRED', 'NO_AUTH_FOUND'].includes(this.code);
  }
}

export async function refreshTokens(settings: OAuthSettings, refreshToken: string, signal?: AbortSignal): Promise<FreshTokens> {
  let response: Response;
  try {
    response = await fetch(settings.oauthUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: settings.clientId,
        client_secret: settings.clientSecret,
        refresh_token: refreshToken,
      }),
      signal: signal ?? AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new OAuthRefreshError('NETWORK_ERROR', (error as Error).message, 0);
  }
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new OAuthRefreshError('BAD_RESPONSE', `OAuth server answered ${response.status} with a body that is not JSON`, response.status);
  }
  if (typeof body.error === 'string' || !response.ok) {
    throw new OAuthRefreshError(
      String(body.error ?? `HTTP_${response.status}`),
      String(body.error_description ?? 'token refresh refused'),
      response.status,
    );
  }
  if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
    throw new OAuthRefreshError('BAD_RESPONSE', 'OAuth answer lacks access_token/refresh_token', response.status);
  }
  const expiresIn = Number(body.expires_in ?? 3600);
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expires: Number(body.expires ?? Math.floor(Date.now() / 1000) + expiresIn),
    expiresIn,
    memberId: String(body.member_id ?? ''),
    domain: String(body.domain ?? ''),
    clientEndpoint: String(body.client_endpoint ?? ''),
    serverEndpoint: String(body.server_endpoint ?? ''),
    scope: String(body.scope ?? ''),
    status: String(body.status ?? ''),
    userId: body.user_id === undefined ? null : Number(body.user_id),
  };
}
