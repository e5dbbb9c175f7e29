/**
 * The official SDK as a client of the emulator: a B24OAuth built from a grant exactly as the
 * OAuth server answered it (the emulator's `/tokens` control gives the same fields), and a caller
 * that turns the SDK's outcome into `{result}` or `{error, status}` for assertions.
 */
import { B24OAuth, type AjaxError } from '@bitrix24/b24jssdk';
import type { Grant } from '../../src/index.ts';

export function sdkFromGrant(grant: Grant, app: { clientId: string; clientSecret: string }): B24OAuth {
  const b24 = new B24OAuth(
    {
      applicationToken: grant.application_token ?? '',
      userId: grant.user_id,
      memberId: grant.member_id,
      accessToken: grant.access_token,
      refreshToken: grant.refresh_token,
      expires: grant.expires,
      expiresIn: grant.expires_in,
      scope: grant.scope,
      domain: grant.domain,
      clientEndpoint: grant.client_endpoint,
      serverEndpoint: grant.server_endpoint,
      status: grant.status as never,
    },
    { clientId: app.clientId, clientSecret: app.clientSecret },
    { restrictionParams: { maxRetries: 1 } },
  );
  b24.offClientSideWarning();
  return b24;
}

export type SdkOutcome = { result?: any; total?: number; error?: string; status?: number };

/** One method through the SDK: its result (with the list's total when asked), or the error code and HTTP status it reported. */
export function sdkCaller(b24: B24OAuth, options: { withTotal?: boolean } = {}) {
  return async (method: string, params: Record<string, unknown> = {}): Promise<SdkOutcome> => {
    try {
      const response = await b24.actions.v2.call.make({ method, params: params as never });
      if (!response.isSuccess) {
        const error = response.getErrors().next().value as AjaxError;
        return { error: error.code, status: error.status };
      }
      const result = response.getData()!.result;
      return options.withTotal ? { result, total: response.getTotal() } : { result };
    } catch (error) {
      return { error: (error as AjaxError).code, status: (error as AjaxError).status };
    }
  };
}
