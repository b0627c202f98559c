# tests/fresh-root/host.bash: what a root made with debootstrap needs of
# this host to reach the package registries the way the host does. Sourced
# by tests/fresh-root/run (the chroot) and tests/image/run (the image's
# debootstrapped base); `suite` names the Debian suite (bookworm).

# apt_sources: the host's source files apt reads (others, e.g.
# *.disabled, are ignored by apt and left out here too).
apt_sources() {
	[ -f /etc/apt/sources.list ] && echo /etc/apt/sources.list
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# mirror: the first source URI that serves the suite itself.
mirror() {
	local f
	for f in $(apt_sources); do
		case $f in
		*.sources)
			awk -v suite="$suite" '
				/^[[:space:]]*$/ { if (ok && uri != "" && deb) { print uri; exit }
				                   ok = 0; uri = ""; deb = 0; next }
				/^[[:space:]]*#/ { next }
				tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
				tolower($1) == "uris:" { uri = $2 }
				tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
				tolower($1) == "enabled:" && tolower($2) == "no" { uri = "" }
				END { if (ok && uri != "" && deb) print uri }' "$f" ;;
		*)
			sed -n 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}\([^[:space:]]\{1,\}\).*/\2 \3/p' "$f" |
				awk -v suite="$suite" '$2 == suite { print $1; exit }' ;;
		esac
	done | head -n 1
}

# give_network ROOT: the host's apt sources, keyrings, Acquire:: settings,
# resolver, hosts and extra CA certificates, into ROOT.
give_network() {
	local root=$1 f k
	mkdir -p "$root/etc/apt/sources.list.d" "$root/etc/apt/apt.conf.d" \
		"$root/usr/local/share/ca-certificates"
	# The root's own sources, written by debootstrap, give way to the host's.
	rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
	for f in $(apt_sources); do
		cp -L "$f" "$root$f"
		# The keyrings a source names, where the root has none of its own.
		# shellcheck disable=SC2013 # a path a word
		for k in $(sed -n 's/.*[Ss]igned-[Bb]y[:=][[:space:]]*\([^] ]*\).*/\1/p' "$f"); do
			[ -f "$k" ] && [ ! -e "$root$k" ] && mkdir -p "$root${k%/*}" && cp -L "$k" "$root$k"
		done
	done
	for d in /etc/apt/trusted.gpg.d /etc/apt/keyrings; do
		[ -d "$d" ] && mkdir -p "$root$d" && cp -aL "$d/." "$root$d/"
	done
	[ -f /etc/apt/trusted.gpg ] && cp -L /etc/apt/trusted.gpg "$root/etc/apt/"
	[ -f /etc/apt/apt.conf ] && cp -L /etc/apt/apt.conf "$root/etc/apt/"
	for f in /etc/apt/apt.conf.d/*; do
		[ -f "$f" ] && grep -qi 'acquire' "$f" && cp -L "$f" "$root$f"
	done
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"
	[ -f /etc/hosts ] && cp -L /etc/hosts "$root/etc/hosts"
	[ -d /usr/local/share/ca-certificates ] &&
		cp -aL /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
	if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
		mkdir -p "$root$(dirname "$NODE_EXTRA_CA_CERTS")"
		cp -L "$NODE_EXTRA_CA_CERTS" "$root$NODE_EXTRA_CA_CERTS"
	fi
}

