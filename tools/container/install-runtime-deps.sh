#!/bin/sh
# Installs the production dependencies of one built service, exactly as its image does:
#
#   install-runtime-deps.sh APP_DIR ROOT_LOCKFILE
#
# APP_DIR is a copy of dist/apps/<service> (main.js plus the package.json that tools/build generated,
# listing only the packages the bundle requires). The workspace lockfile goes next to it so that npm
# keeps every version it pins, then npm drops what this service does not use. verify-pinned.cjs
# fails the build if anything was resolved afresh instead of from the lockfile.
#
# POSIX sh: it runs in the slim Node image as well as on CI machines.
set -eu

app=${1:?usage: install-runtime-deps.sh APP_DIR ROOT_LOCKFILE}
lock=${2:?usage: install-runtime-deps.sh APP_DIR ROOT_LOCKFILE}
here=$(cd "$(dirname "$0")" && pwd)

[ -f "$app/package.json" ] || { echo "install-runtime-deps: $app/package.json is missing (build the service first)" >&2; exit 1; }
[ -f "$app/main.js" ] || { echo "install-runtime-deps: $app/main.js is missing (build the service first)" >&2; exit 1; }

cp "$lock" "$app/package-lock.json"
# --ignore-scripts: no runtime dependency needs an install script (no native addons), and none
# should run in an image build.
(cd "$app" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
node "$here/verify-pinned.cjs" "$app" "$lock"
