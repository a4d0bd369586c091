#!/usr/bin/env bash
# Print a fresh API token secret (lpt_…) for one portal account, for the schemathesis runs.
#
#   .ci/schemathesis-tokens.sh BASE_URL EMAIL            e.g. http://127.0.0.1:18080 pm@northlight.test
#
# Environment: LOCPORTAL_PASSWORD (default: the demo password `locportal-demo`),
#              TOKEN_NAME (default: `st`; when an active `st` token exists, `st-<UTC time>-<pid>`).
# There is no CLI for tokens, so this signs in through the HTML form like a browser:
#   1. GET /sign-in sets the `lp_pre` cookie; the form's hidden `csrf` field carries the same value.
#   2. POST /sign-in (form-urlencoded email, password, csrf) answers 303 and sets `lp_session`.
#   3. Any signed-in page (/settings/tokens) carries the session's CSRF token in hidden `csrf` fields.
#   4. POST /api/v1/tokens {"name": …} with the session cookie and X-CSRF-Token; 201 has `secret`.
# Only curl and python3 (or jq, when installed) are used. Nothing but the secret goes to stdout.
set -euo pipefail

usage() { echo "usage: $0 BASE_URL EMAIL" >&2; exit 2; }
die() { echo "schemathesis-tokens: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
base=${1%/}
email=$2
password=${LOCPORTAL_PASSWORD:-locportal-demo}
name=${TOKEN_NAME:-st}
command -v curl >/dev/null || die "curl is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jar=$work/cookies
curl_() { curl --silent --show-error --max-time 30 --cookie "$jar" --cookie-jar "$jar" "$@"; }

# The first hidden `csrf` field of an HTML page, or nothing.
hidden_csrf() { grep -oE 'name="csrf"[^>]*value="[^"]+"' "$1" | head -n 1 | sed -E 's/.*value="([^"]+)".*/\1/' || true; }

# 1. the sign-in form
code=$(curl_ --output "$work/sign-in.html" --write-out '%{http_code}' "$base/sign-in") || die "cannot reach $base/sign-in"
[ "$code" = 200 ] || die "GET /sign-in answered $code"
pre=$(hidden_csrf "$work/sign-in.html")
[ -n "$pre" ] || pre=$(awk '$6 == "lp_pre" { print $7 }' "$jar")
[ -n "$pre" ] || die "no csrf field or lp_pre cookie on /sign-in"

# 2. sign in (no redirect following: success is 303 plus an lp_session cookie)
code=$(curl_ --output /dev/null --write-out '%{http_code}' \
    --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "csrf=$pre" --data-urlencode "next=/" "$base/sign-in")
awk '$6 == "lp_session" { found = 1 } END { exit !found }' "$jar" \
    || die "sign-in as $email failed (HTTP $code): wrong e-mail/password, or throttled"

# 3. the session's CSRF token
code=$(curl_ --output "$work/tokens.html" --write-out '%{http_code}' "$base/settings/tokens")
[ "$code" = 200 ] || die "GET /settings/tokens answered $code"
csrf=$(hidden_csrf "$work/tokens.html")
[ -n "$csrf" ] || die "no csrf token on /settings/tokens"

# 4. create the token (the name goes through python3's JSON encoder, never spliced raw)
create_token() {
    local body
    body=$(python3 -c 'import json, sys; print(json.dumps({"name": sys.argv[1]}))' "$1")
    curl_ --output "$work/created.json" --write-out '%{http_code}' \
        -H 'Content-Type: application/json' -H 'Accept: application/json' -H "X-CSRF-Token: $csrf" \
        --data-binary "$body" "$base/api/v1/tokens"
}
code=$(create_token "$name")
# Active token names are unique per user: on a second run against the same database, `st` is
# taken, so fall back once to a unique name rather than fail.
if [ "$code" = 409 ] && [ -z "${TOKEN_NAME:-}" ] && grep -q 'active token with this name' "$work/created.json"; then
    code=$(create_token "$name-$(date -u +%Y%m%dT%H%M%SZ)-$$")
fi
[ "$code" = 201 ] || die "POST /api/v1/tokens answered $code: $(head -c 300 "$work/created.json")"

if command -v jq >/dev/null; then
    secret=$(jq -er '.secret' "$work/created.json") || die "no secret in the response"
else
    secret=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["secret"])' "$work/created.json") \
        || die "no secret in the response"
fi
[ -n "$secret" ] || die "empty secret"
printf '%s\n' "$secret"
