#!/bin/sh
# The image's entry point: `merge-assist "$@"`, after reading secrets from files.
#
# Every variable MERGE_ASSIST_<NAME>_FILE=<path> becomes MERGE_ASSIST_<NAME>=<the file's
# content> (one trailing newline removed), so Docker/Compose secrets (/run/secrets/...) never
# sit in the environment of `docker inspect`. MERGE_ASSIST_SECRETS_FILE is a real setting (the
# `file` secrets provider's path) and is left alone. A named file that cannot be read stops the
# container with a sentence rather than starting without the secret.
set -eu

for assignment in $(env | grep -o '^MERGE_ASSIST_[A-Z0-9_]*_FILE=' || true); do
  variable="${assignment%=}"
  [ "$variable" = "MERGE_ASSIST_SECRETS_FILE" ] && continue
  target="${variable%_FILE}"
  path="$(printenv "$variable")"
  if [ ! -r "$path" ]; then
    echo "merge-assist-entrypoint: $variable names $path, which cannot be read" >&2
    exit 64
  fi
  value="$(cat "$path")"  # command substitution drops the trailing newline
  export "$target=$value"
  unset "$variable"
done

exec merge-assist "$@"
