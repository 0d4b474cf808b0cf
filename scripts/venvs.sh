# Sourced by scripts/test.sh: virtualenvs cached across runs on the same machine.
#
# cached_venv LINK KEY INSTALL_FN
#   LINK (e.g. .venv) becomes a symlink to a virtualenv under $TK_VENV_CACHE
#   (default ~/.cache/tracekit/venvs) named after a hash of KEY; INSTALL_FN DIR fills a
#   new one. A venv is used only once its install finished (a .complete marker), so an
#   interrupted install is redone, never half-used. A LINK that is a real directory (a
#   developer's own venv) is left alone and used as it is.
TK_VENV_CACHE=${TK_VENV_CACHE:-$HOME/.cache/tracekit/venvs}

cached_venv() {
  local link=$1 key=$2 install_fn=$3
  if [ -d "$link" ] && [ ! -L "$link" ]; then
    return 0
  fi
  local hash
  hash=$(printf '%s %s' "$key" "$("$PY" -c 'import sys; print(sys.version)')" | sha256sum | cut -c1-16)
  local dir="$TK_VENV_CACHE/${link#.}-$hash"
  if [ ! -f "$dir/.complete" ]; then
    echo "== installing $link (cached as $dir)"
    rm -rf "$dir"
    mkdir -p "$TK_VENV_CACHE"
    "$PY" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip
    "$install_fn" "$dir"
    touch "$dir/.complete"
  fi
  rm -f "$link"
  ln -s "$dir" "$link"
}
