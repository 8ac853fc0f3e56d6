# Sourced by installer/build.sh and installer/verify-deb.sh (POSIX sh), from the checkout root.
# The version comes from one place, mppsconsole.__version__; Debian's spelling of it is
# derived here so both scripts agree on the .deb's name.

if [ -x .venv/bin/python ]; then PY=${PY:-.venv/bin/python}; else PY=${PY:-python3}; fi

app_version() {  # mppsconsole/__init__.py imports nothing: any Python 3 can read it
    PYTHONPATH=. "$PY" -c 'import mppsconsole; print(mppsconsole.__version__)'
}

# PEP 440 -> Debian: pre-releases sort before the release (~), post-releases after (+).
deb_version() {
    echo "$1" | sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/g; s/\.?post([0-9]+)/+post\1/'
}

DEB_ARCH=amd64
TAR_ARCH=linux-x86_64
