# Sourced by the other scripts (and by you, in a shell): Node 24 and the built tools on PATH,
# PostgreSQL's server binaries too.
_pw_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_pw_here/versions.sh"
source "$_pw_here/node.sh"
_pw_pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n $_pw_pg ]] && export PATH="$PATH:$_pw_pg"
export PW_BIN PW_CACHE
unset _pw_here _pw_pg
