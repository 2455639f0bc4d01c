export interface LoginPageState {
  /** The token id of a live session. */
  loggedInAs?: string | undefined;
  justLoggedIn?: boolean;
  loggedOut?: boolean;
  error?: string;
  /** Where operators open the Web UI (`CODEC_CORS_ORIGINS`). */
  uiOrigins: string[];
}

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The codec login page: a form without script or style (the page's policy allows neither), which posts an admin
 * token to `/codec/login` and gets a session cookie back.
 */
export function loginPage(state: LoginPageState): string {
  const ui = state.uiOrigins.map((o) => `<a href="${escape(o)}">${escape(o)}</a>`).join(' or ');
  const status = state.error
    ? `<p role="alert"><strong>Not logged in:</strong> ${escape(state.error)}</p>`
    : state.loggedInAs
      ? `<p role="status">${state.justLoggedIn ? 'Logged in' : 'You are logged in'} with admin token ` +
        `<code>${escape(state.loggedInAs)}</code>. The Temporal Web UI (${ui}) can now decode payloads: reload it.</p>`
      : state.loggedOut
        ? '<p role="status">Logged out.</p>'
        : '';
  const form = state.loggedInAs
    ? '<form method="post" action="/codec/logout"><button type="submit">Log out</button></form>'
    : `<form method="post" action="/codec/login">
<label for="token">Admin token (unrestricted)</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Log in</button>
</form>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Payload codec: operator login</title></head>
<body>
<h1>Payload codec: operator login</h1>
<p>Payloads in Temporal are encrypted. Log in with an unrestricted admin token to let the Temporal Web UI decode them
for you in this browser. In the Web UI's Codec Server settings the endpoint is this server's <code>/codec</code>, with
"Include cross-origin credentials" on.</p>
${status}
${form}
</body>
</html>
`;
}
