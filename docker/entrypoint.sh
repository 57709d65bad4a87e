#!/bin/sh
# Starts the API with a signing key that survives restarts.
#
# SECRET_KEY, when given, is used as it is. Otherwise the key is read from SECRET_KEY_FILE,
# and created there (48 random bytes, readable by this user alone) on the first start, so
# that the volume holding it keeps every token valid across restarts and upgrades.
set -eu

if [ -n "${SECRET_KEY:-}" ]; then
    unset SECRET_KEY_FILE
elif [ -n "${SECRET_KEY_FILE:-}" ] && [ ! -s "$SECRET_KEY_FILE" ]; then
    umask 077
    partial="$SECRET_KEY_FILE.$$.partial"
    python -c 'import secrets; print(secrets.token_urlsafe(48))' > "$partial"
    # A hard link fails if another container created the key meanwhile: keep that one.
    if ln "$partial" "$SECRET_KEY_FILE" 2>/dev/null; then
        echo "tenantry: created a signing key in $SECRET_KEY_FILE; keep that volume" >&2
    fi
    rm -f "$partial"
fi

exec "$@"
