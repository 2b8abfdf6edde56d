#!/usr/bin/env bash
# deps.sh — install what simlab needs on this machine, and only what is
# missing. Usage: scripts/deps.sh build|test
#   build: what `make run`/`make build` need (cgo libraries for PC/SC and USB)
#   test:  build + the real peers the integration tests use
# Debian/Ubuntu: installs missing packages with apt-get (as root, or through
# sudo when it needs no password); otherwise prints the exact command.
# macOS: prints the Homebrew names. Go modules come from go.mod (go mod download).
set -euo pipefail

kind=${1:-build}
build_pkgs=(libpcsclite-dev libusb-1.0-0-dev pkg-config)
test_pkgs=(pcscd vsmartcard-vpcd pcsc-tools opensc softhsm2 socat kannel gammu tshark chromium)
# Node and npm for the browser tests: Debian's, unless the machine has its own.
command -v node >/dev/null 2>&1 || test_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || test_pkgs+=(npm)
brew_build=(pcsc-lite libusb pkg-config)
brew_test=(softhsm opensc gammu wireshark socat)
# curl and jq run the shell script of docs/api.md (TestDocsNamespaceShell).
test_pkgs+=(curl jq)
brew_test+=(jq)

case "$kind" in
build) pkgs=("${build_pkgs[@]}"); brews=("${brew_build[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}"); brews=("${brew_build[@]}" "${brew_test[@]}") ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
	echo "deps: Go $need_go or newer is required: install it from your distribution or go.dev/dl" >&2
	exit 1
fi
have_go=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]; then
	echo "deps: Go $have_go is older than $need_go (go.mod); install a newer Go" >&2
	exit 1
fi

if [ "$(uname -s)" = Darwin ]; then
	missing=()
	for b in "${brews[@]}"; do brew list "$b" >/dev/null 2>&1 || missing+=("$b"); done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "deps: missing Homebrew packages; run: brew install ${missing[*]}" >&2
		[ "$kind" = build ] || echo "deps: vsmartcard-vpcd and kannel have no Homebrew formula; their tests are skipped outside CI" >&2
	fi
elif command -v dpkg-query >/dev/null 2>&1; then
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		cmd=(apt-get install -y -q --no-install-recommends "${missing[@]}")
		if [ "$(id -u)" -eq 0 ]; then
			sudo=()
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			echo "deps: missing Debian packages; run as root:" >&2
			echo "  apt-get update && DEBIAN_FRONTEND=noninteractive ${cmd[*]}" >&2
			exit 1
		fi
		echo "deps: installing ${missing[*]}" >&2
		"${sudo[@]}" apt-get update -q >/dev/null
		# tshark asks whether non-root users may capture; answer no, quietly.
		echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive "${cmd[@]}" >/dev/null
	fi
else
	echo "deps: not Debian or macOS; install the equivalents of: ${pkgs[*]}" >&2
fi

go mod download

# npm packages of the tests that use them: each consumer keeps its own
# package.json and package-lock.json beside its tests; npm ci installs
# exactly the locked versions, skipped while node_modules is up to date.
if [ "$kind" = test ] && command -v npm >/dev/null 2>&1 && command -v git >/dev/null 2>&1; then
	root=$(cd "$(dirname "$0")/.." && pwd)
	git -C "$root" ls-files -- '*package-lock.json' 2>/dev/null | while IFS= read -r lock; do
		dir=$root/$(dirname "$lock")
		if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$lock" ]; then
			continue
		fi
		echo "deps: npm ci in $dir" >&2
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	done
fi
