#!/bin/sh
# deps.sh: install everything ltb needs to build, test and run.
#
# The one dependency list of the project. README, `make`, .ci/run, the
# Dockerfile and the CircleCI config all call this script, so a machine set
# up by any of them is set up the same way. It is idempotent and quick when
# everything is present: it asks dpkg what is missing and installs only that.
#
#   docker/deps.sh            runtime + build + test dependencies (default)
#   docker/deps.sh --build    runtime + build: what `make all install` and the
#                             clients' setup need (the image's build stage)
#   docker/deps.sh --runtime  only what the installed tools need to run
#   docker/deps.sh --check    exit 1 and name what the default is missing
#   docker/deps.sh --list     the Debian packages of the default, one a line
#   docker/deps.sh --help     this text (also -h)
#
# usage: docker/deps.sh [--build | --runtime | --check | --list | -h | --help]
set -eu

# Runtime: shared libraries the tools link, gnuplot for ltb-plot, Node.js and
# npm (below) for the JavaScript clients (a maintainer's own client installs
# its packages in the image), OSProfiler and its redis driver's redis-py for the
# py-osprofiler client (on Debian's python3: there is no PyPI here); git and
# ssh so that a CI's checkout step works inside the image; jq, with which
# gates.sh merges the gates' Bencher Metric Format files.
RUNTIME="libmicrohttpd12 libcurl4 libmbedtls14 libprotobuf-c1 libcjson1 zlib1g
gnuplot-nox nodejs ca-certificates python3-osprofiler python3-redis
git openssh-client jq"

# Build: compilers, headers and the protobuf-c compiler.
BUILD="make gcc pkg-config libmicrohttpd-dev libcurl4-openssl-dev
libmbedtls-dev libprotobuf-c-dev protobuf-c-compiler libcjson-dev zlib1g-dev"

# Test: clang (fuzz targets, the clang build), the test frameworks and
# tools the tests call; a real Redis (server and redis-cli) for the RESP and
# OSProfiler tests; Chromium, headless, to open the HTML report; man to
# render the manual pages; Apache Thrift's Python library, the oracle the
# LightStep thrift tests build and decode reports with; the Node packages
# of tests/js (npm ci below).
TEST="clang libcmocka-dev bats bats-support bats-assert curl perl procps
iproute2 python3-yaml libtap-formatter-junit-perl redis-server redis-tools
chromium man-db python3-thrift"

mode=${1:-all}
case $mode in
all) want="$RUNTIME $BUILD $TEST" ;;
--build) want="$RUNTIME $BUILD" ;;
--runtime) want="$RUNTIME" ;;
--check) want="$RUNTIME $BUILD $TEST" ;;
--list) printf '%s\n' $RUNTIME $BUILD $TEST npm; exit 0 ;;
-h|--help) sed -n '2,/^set/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "deps.sh: unknown option '$mode' (try --help)" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' ||
		missing="$missing $p"
done
# npm ships inside nodesource's nodejs; Debian's nodejs needs the npm package.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -n "$missing" ]; then
	if [ "$mode" = --check ]; then
		echo "deps.sh: missing:$missing" >&2
		exit 1
	fi
	sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || {
			echo "deps.sh: need root to install:$missing" >&2
			echo "deps.sh: run 'sudo docker/deps.sh' or install them with apt-get" >&2
			exit 3
		}
		sudo=sudo
	fi
	echo "deps.sh: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine (or image) has no package lists yet.
	$sudo apt-get update -q >/dev/null || $sudo apt-get update -q
	# shellcheck disable=SC2086
	$sudo apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# Node packages for the tests that drive real third-party tracers; pinned by
# the committed package-lock.json.
if [ "$mode" = all ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	for dir in "$top"/tests/js; do
		[ -f "$dir/package-lock.json" ] || continue
		stamp="$dir/node_modules/.package-lock.json"
		if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
			echo "deps.sh: npm ci in ${dir#"$top"/}" >&2
			(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		fi
	done
fi
exit 0
