#!/usr/bin/env bash
# Builds nfdump 1.7.8 (newest 1.7.x release tag) plus its test generator nfgen into a private
# prefix, leaving the Debian nfdump 1.7.1 in /usr/bin the default `nfdump` on PATH.
#
#   NFDUMP_LATEST_PREFIX  install prefix     (default ~/.cache/flow-models/nfdump-1.7-latest)
#   NFDUMP_TAG            git tag to build   (default v1.7.8)
#   NFDUMP_MIRROR         bare git repo      (default /work/.mirror/phaag+nfdump/repo)
#   NFDUMP_SRC            source tree        (default ~/.cache/flow-models/src/nfdump-$NFDUMP_TAG)
#   FORCE=1               rebuild even if the prefix already has this version
#
# Idempotent: exits early when $PREFIX/bin/nfdump reports the wanted version and
# $PREFIX/bin/nfgen exists. Needs root for apt-get only if a build dependency is missing.
set -euo pipefail
TAG=${NFDUMP_TAG:-v1.7.8}
PREFIX=${NFDUMP_LATEST_PREFIX:-$HOME/.cache/flow-models/nfdump-1.7-latest}
MIRROR=${NFDUMP_MIRROR:-/work/.mirror/phaag+nfdump/repo}
SRC=${NFDUMP_SRC:-$HOME/.cache/flow-models/src/nfdump-$TAG}
VER=${TAG#v}

if [[ -z ${FORCE:-} && -x $PREFIX/bin/nfdump && -x $PREFIX/bin/nfgen ]] &&
    "$PREFIX/bin/nfdump" -V 2>/dev/null | grep -q "$VER"; then
    echo "already built: $("$PREFIX/bin/nfdump" -V) in $PREFIX"
    exit 0
fi

# build dependencies (Debian package names)
deps=(autoconf automake libtool pkg-config flex bison make gcc
      libbz2-dev liblz4-dev libzstd-dev zlib1g-dev)
missing=()
for p in "${deps[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# fresh source tree from the mirror
[[ -d $MIRROR ]] || { echo "no nfdump mirror at $MIRROR" >&2; exit 1; }
rm -rf "$SRC"
mkdir -p "$SRC"
git --git-dir="$MIRROR" archive "$TAG" | tar -x -C "$SRC"

cd "$SRC"
./autogen.sh >autogen.log 2>&1 || { tail -30 autogen.log >&2; exit 1; }
# Debian's nfdump is built statically too; --disable-shared keeps the private binaries
# independent of any libnfdump/libnffile elsewhere on the system.
./configure --prefix="$PREFIX" --disable-shared >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
make -j2 >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
make install >install.log 2>&1 || { tail -30 install.log >&2; exit 1; }
# nfgen is a check_PROGRAM (built by `make check`); build only it and install it by hand
make -C src/test nfgen >nfgen.log 2>&1 || { tail -30 nfgen.log >&2; exit 1; }
./libtool --mode=install install -m 755 src/test/nfgen "$PREFIX/bin/nfgen" >>install.log 2>&1

"$PREFIX/bin/nfdump" -V
echo "built $TAG into $PREFIX (nfgen: $PREFIX/bin/nfgen)"
