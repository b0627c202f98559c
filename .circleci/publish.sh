#!/bin/sh
# publish.sh: build the ltb image (docker/Dockerfile, from the top of the
# tree) and push it where the project's CircleCI variables say, tagged with
# the commit and `latest`, for tracer pipelines to run their gates in.
# CircleCI runs it on main only, after the tests and ltb's own gates passed.
#
# usage: .circleci/publish.sh [-h | --help]
#
# Environment (CircleCI: Project Settings, Environment Variables):
#   LTB_IMAGE              the repository to push to, without a tag, e.g.
#                          ghcr.io/OWNER/ltb or docker.io/OWNER/ltb
#   LTB_REGISTRY_USER      the registry's user name
#   LTB_REGISTRY_PASSWORD  its password or token: given to `docker login`
#                          on stdin, never on a command line
#   CIRCLE_SHA1            the commit (CircleCI sets it; else git's HEAD)
# The registry logged in to is LTB_IMAGE's first component when it names a
# host (has a '.' or a ':', or is localhost), else Docker Hub, as docker
# itself reads an image name.
#
# When LTB_IMAGE or either credential is unset (a fork, or a project that
# has not chosen a registry) it says so on stdout and exits 0, pushing
# nothing: there is nowhere to publish, which is not a failure of the build.
#
# Exit: 0 pushed, or skipped and said why; 1 docker failed (login, build or
# push); 2 usage, or a bad LTB_IMAGE.
set -u

prog=publish.sh
case ${1-} in
-h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
'') [ $# -eq 0 ] || { echo "$prog: no arguments (see --help)" >&2; exit 2; } ;;
*) echo "$prog: unknown argument '$1': no arguments, the environment steers it (see --help)" >&2; exit 2 ;;
esac

image=${LTB_IMAGE:-}
user=${LTB_REGISTRY_USER:-}
password=${LTB_REGISTRY_PASSWORD:-}
unset_vars=
[ -n "$image" ] || unset_vars="$unset_vars LTB_IMAGE"
[ -n "$user" ] || unset_vars="$unset_vars LTB_REGISTRY_USER"
[ -n "$password" ] || unset_vars="$unset_vars LTB_REGISTRY_PASSWORD"
if [ -n "$unset_vars" ]; then
	echo "$prog: skipped, nothing pushed: unset in this project:$unset_vars" \
		"(set them in CircleCI's project settings to publish the image)"
	exit 0
fi

# A tag or digest would clash with the two tags given here.
case ${image##*/} in
*:* | *@*)
	echo "$prog: bad LTB_IMAGE '$image': a repository without a tag (the tags are the commit and latest)" >&2
	exit 2
	;;
esac
case $image in
'' | */ | /* | *' '*)
	echo "$prog: bad LTB_IMAGE '$image': e.g. ghcr.io/OWNER/ltb" >&2
	exit 2
	;;
esac
registry=
case $image in
*/*)
	first=${image%%/*}
	case $first in
	*.* | *:* | localhost) registry=$first ;;
	esac
	;;
esac

sha=${CIRCLE_SHA1:-$(git rev-parse HEAD 2>/dev/null)} || sha=
[ -n "$sha" ] || { echo "$prog: no commit to tag with: CIRCLE_SHA1 unset and no git HEAD" >&2; exit 2; }

# run COMMAND...: COMMAND, said first; a failure ends the script with 1.
run() {
	echo "$prog: $*" >&2
	"$@" || { echo "$prog: $1 $2 failed (exit $?)" >&2; exit 1; }
}

echo "$prog: logging in to ${registry:-Docker Hub} as $user" >&2
printf '%s\n' "$password" |
	docker login --username "$user" --password-stdin $registry >&2 || {
	echo "$prog: docker login ${registry:-(Docker Hub)} failed" >&2
	exit 1
}
run docker build -f docker/Dockerfile -t "$image:$sha" -t "$image:latest" .
run docker push "$image:$sha"
run docker push "$image:latest"
echo "$prog: pushed $image:$sha and $image:latest"
