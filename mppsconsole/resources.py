"""Files the program reads at run time (icons, translations, sample worklists), found anywhere.

The same relative path has to work in three places: a source checkout (editable
install), an installed wheel, and a PyInstaller bundle. All three keep the files
inside the package directory, under ``data/`` and ``translations/`` (see
``pyproject.toml`` package-data and ``installer/mppsconsole.spec``), so one
lookup relative to the package serves them all. In a bundle the package lives in
``sys._MEIPASS``; that root is tried first so that a bundle never reads files
from some other copy of the package that happens to be importable.

This module imports nothing of ours and no Qt (an import-linter contract keeps it
so): the CLI and the GUI both use it, and ``serve`` must not load Qt.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: The PNG sizes committed next to the SVG (installer/make-icons.py renders them).
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: Sample worklist formats that ``mppsconsole worklist import`` accepts.
SAMPLE_KINDS = ("json", "csv")
_STATUS_ICON_NAMES = {
    "IN PROGRESS": "status-in-progress.svg",
    "COMPLETED": "status-completed.svg",
    "DISCONTINUED": "status-discontinued.svg",
}
_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_roots() -> list[Path]:
    """Directories searched in order: the bundle's copy of the package, then the package."""
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "mppsconsole")
    if _PACKAGE_DIR not in roots:
        roots.append(_PACKAGE_DIR)
    return roots


def resource_path(*parts: str) -> Path:
    """The existing file or folder ``parts`` below the first root holding it.

    A missing resource is a packaging bug, not a user's mistake: the error names
    every place looked in, which is what one needs to fix the spec or package-data.
    """
    if not parts:
        raise ValueError("resource_path needs at least one path component")
    tried = []
    for root in resource_roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
        tried.append(str(candidate))
    raise FileNotFoundError(f"resource {'/'.join(parts)} not found; looked in: {', '.join(tried)}")


def app_icon_path(size: int | None = None) -> Path:
    """The application icon: the scalable SVG, or the PNG of one of :data:`APP_ICON_SIZES`."""
    if size is None:
        return resource_path("data", "icons", "mppsconsole.svg")
    if size not in APP_ICON_SIZES:
        raise ValueError(f"no {size} px application icon; sizes: {APP_ICON_SIZES}")
    return resource_path("data", "icons", f"mppsconsole-{size}.png")


def status_icon_path(status: str) -> Path:
    """The SVG of a procedure step state (``IN PROGRESS``, ``COMPLETED``, ``DISCONTINUED``)."""
    try:
        name = _STATUS_ICON_NAMES[status]
    except KeyError:
        raise ValueError(f"no status icon for {status!r}") from None
    return resource_path("data", "icons", name)


def translations_dir() -> Path:
    """The folder of compiled translations (``mppsconsole_<locale>.qm``) for QTranslator."""
    return resource_path("translations")


def sample_worklist(kind: str) -> Path:
    """The demo worklist as ``json`` or ``csv``: the same five items in both."""
    if kind not in SAMPLE_KINDS:
        raise ValueError(f"no {kind!r} sample worklist; kinds: {SAMPLE_KINDS}")
    return resource_path("data", "samples", f"sample-worklist.{kind}")


#: The server behaviour profiles shipped as examples (``serve --profile``).
EXAMPLE_PROFILES = ("lenient", "flaky-ris")


def example_profile(name: str) -> Path:
    """A shipped server behaviour profile, one of :data:`EXAMPLE_PROFILES`."""
    if name not in EXAMPLE_PROFILES:
        raise ValueError(f"no {name!r} example profile; names: {EXAMPLE_PROFILES}")
    return resource_path("data", "profiles", f"{name}.toml")


#: The demo scenarios shipped for ``mppsconsole scenario run``.
DEMO_SCENARIOS = ("ct-morning", "mr-chinese-names")


def demo_scenario(name: str) -> Path:
    """A shipped scenario file (TOML), by name without the extension."""
    if name not in DEMO_SCENARIOS:
        raise ValueError(f"no demo scenario {name!r}; demos: {DEMO_SCENARIOS}")
    return resource_path("data", "scenarios", f"{name}.toml")
