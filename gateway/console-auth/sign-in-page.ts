/**
 * The console's sign-in page (`/console/sign-in`): plain HTML with no script at all, its stylesheet
 * from the gateway itself, under a Content-Security-Policy that allows nothing else. The single
 * sign-on link appears when an identity provider is configured; the "Admin token" form is the
 * break-glass way in.
 */
import type { ServerResponse } from 'node:http';

/** The sign-in page's policy: no script, styles only from the gateway, forms only to the gateway, never framed. */
export const SIGN_IN_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** What the page says after a failed attempt (`?error=`); unknown codes show nothing. */
const ERROR_TEXT: Readonly<Record<string, string>> = {
  token: 'That admin token is not valid.',
  'cross-site': 'The sign-in came from another site and was refused.',
  oidc: 'Single sign-on did not complete. Try again, or ask your administrator.',
  'no-role': 'You signed in, but none of your groups gives you a role in the Outpost console.',
  expired: 'Your session ended. Sign in again.',
};

const STYLES = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { display: grid; place-items: center; min-height: 100vh; margin: 0; background: Canvas; color: CanvasText; }
main { width: min(24rem, 90vw); padding: 2rem; border: 1px solid GrayText; border-radius: 0.5rem; }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: 1rem 0 0.25rem; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: 0.5rem; font: inherit; }
button, .sso { display: block; width: 100%; box-sizing: border-box; margin-top: 1rem; padding: 0.6rem; font: inherit; text-align: center; cursor: pointer; }
.sso { border: 1px solid ButtonBorder; border-radius: 0.25rem; background: ButtonFace; color: ButtonText; text-decoration: none; }
.error { padding: 0.5rem; border: 1px solid #b00020; border-radius: 0.25rem; }
.or { margin: 1.5rem 0 0; text-align: center; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's HTML. */
export function signInHtml(options: { readonly oidc: boolean; readonly error: string | null }): string {
  const error = options.error === null ? undefined : ERROR_TEXT[options.error];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Outpost console</title>
<link rel="stylesheet" href="/console/auth/sign-in.css">
</head>
<body>
<main>
<h1>Sign in to the Outpost console</h1>
${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>\n`}${options.oidc ? '<a class="sso" href="/console/auth/oidc/start">Sign in with single sign-on</a>\n<p class="or">or, in an emergency</p>\n' : ''}<form method="post" action="/console/auth/token">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}

/** Headers every console auth page carries. */
export function pageHeaders(contentType: string, body: string): Record<string, string | number> {
  return {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': SIGN_IN_CSP,
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it Chromium sends `Origin: null` with the form's POST.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

/** Answers the page. */
export function sendSignInPage(res: ServerResponse, options: { readonly oidc: boolean; readonly error: string | null }): void {
  const html = signInHtml(options);
  res.writeHead(200, pageHeaders('text/html; charset=utf-8', html));
  res.end(html);
}

/** Answers the page's stylesheet. */
export function sendSignInStyles(res: ServerResponse): void {
  res.writeHead(200, pageHeaders('text/css; charset=utf-8', STYLES));
  res.end(STYLES);
}
