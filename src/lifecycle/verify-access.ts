/**
 * Before trusting tokens that arrive with an install, we prove they work: `app.info` made with
 * the access token must succeed on that portal and answer for our application. Nothing is
 * stored, refreshed or rate-budgeted here: the portal is not ours yet.
 */
import { AjaxError, B24OAuth } from '@bitrix24/b24jssdk';

export interface AppInfo {
  ID?: number | string;
  CODE?: string;
  VERSION?: number | string;
  STATUS?: string;
  INSTALLED?: boolean;
  LANGUAGE_ID?: string;
}

export class AccessNotProven extends Error {}

export async function verifyAccess(options: {
  clientEndpoint: string;
  accessToken: string;
  memberId: string;
  domain: string;
  /** app.info's CODE must equal this: for local apps the client id, for marketplace apps the app code */
  appCode: string;
}): Promise<AppInfo> {
  const b24 = new B24OAuth(
    {
      applicationToken: '',
      userId: 0,
      memberId: options.memberId,
      accessToken: options.accessToken,
      refreshToken: '',
      expires: Math.floor(Date.now() / 1000) + 3600,
      expiresIn: 3600,
      scope: '',
      domain: options.domain,
      clientEndpoint: options.clientEndpoint,
      serverEndpoint: options.clientEndpoint,
      status: 'L' as never,
    },
    { clientId: '', clientSecret: '' },
    { restrictionParams: { maxRetries: 1, retryOnNetworkError: false } },
  );
  b24.offClientSideWarning();
  b24.setCustomRefreshAuth(async () => {
    throw new AccessNotProven('the access token given at install is not valid');
  });
  let info: AppInfo | undefined;
  try {
    const response = await b24.actions.v2.call.make<AppInfo>({ method: 'app.info' });
    if (!response.isSuccess) throw response.getErrors().next().value;
    info = response.getData()?.result;
  } catch (error) {
    const original = error instanceof AjaxError ? error.originalError : error;
    if (original instanceof AccessNotProven) throw original;
    const reason = error instanceof AjaxError ? `${error.code} ${error.message}` : (error as Error).message;
    throw new AccessNotProven(`app.info with the given token failed: ${reason}`);
  }
  if (!info || typeof info !== 'object') throw new AccessNotProven('app.info answered without a result');
  if (info.CODE !== options.appCode) {
    throw new AccessNotProven(`the token belongs to another application (${String(info.CODE)})`);
  }
  return info;
}
