#!/bin/sh
# runtime-libs.sh record
#   Lists the shared libraries the base image already has (run it before installing anything).
# runtime-libs.sh collect DEST PATH...
#   Copies into DEST every shared library that the ELF files under PATH need and that the base
#   image did not have, each at its real path, so that a final stage built FROM the same base
#   takes exactly the runtime libraries with one `COPY --from=<stage> DEST/ /`.
#
# Paths are resolved with `readlink -f` because Debian's /lib is a symlink to /usr/lib: copying
# into a symlinked directory with COPY would replace the link.
set -eu
base_list=/var/lib/runtime-libs.base

case "${1:-}" in
record)
    find / -xdev \( -name '*.so' -o -name '*.so.*' \) \( -type f -o -type l \) -exec readlink -f {} + \
        | sort -u > "$base_list"
    ;;
collect)
    dest=$2
    shift 2
    mkdir -p "$dest"
    find "$@" -type f \( -perm -u+x -o -name '*.so' -o -name '*.so.*' \) -print \
        | while read -r file; do ldd "$file" 2>/dev/null || true; done \
        | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' \
        | sort -u \
        | while read -r lib; do
            real=$(readlink -f "$lib")
            if grep -qxF "$real" "$base_list"; then
                continue
            fi
            target="$dest$(dirname "$real")/$(basename "$lib")"
            mkdir -p "$(dirname "$target")"
            cp -L "$lib" "$target"
            echo "runtime library: $(dirname "$real")/$(basename "$lib")"
        done
    ;;
*)
    echo "usage: runtime-libs.sh record | collect DEST PATH..." >&2
    exit 2
    ;;
esac
