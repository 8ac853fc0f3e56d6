"""Run-time resources are found from the source tree and from a PyInstaller bundle, and are sound.

The bundle case is simulated: ``sys._MEIPASS`` pointing at a copy of the package's
resource folders is exactly what the frozen app sees. The real bundle is checked by
installer/verify-deb.sh, not here.
"""

from __future__ import annotations

import shutil
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mppsconsole import resources
from mppsconsole.core.mpps import STATUSES
from mppsconsole.core.worklist_file import parse_worklist_file

PACKAGE = Path(resources.__file__).resolve().parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Identifiers build_item makes up when a file has none: they differ on every import.
GENERATED = {"study_instance_uid", "requested_procedure_id", "scheduled_step_id"}
GENERATED_PROTOCOL = {"protocol_code_value"}  # derived from requested_procedure_id


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which PNG requires to come first."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def no_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run unfrozen even if some plugin set ``sys._MEIPASS``."""
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)


@pytest.mark.usefixtures("no_bundle")
def test_found_in_the_source_tree() -> None:
    assert resources.app_icon_path() == PACKAGE / "data" / "icons" / "mppsconsole.svg"
    for size in resources.APP_ICON_SIZES:
        assert resources.app_icon_path(size).is_file()
    assert (resources.translations_dir() / "mppsconsole_zh_CN.qm").is_file()
    for kind in resources.SAMPLE_KINDS:
        assert resources.sample_worklist(kind).is_file()
    for status in STATUSES:
        assert resources.status_icon_path(status).is_file()


@pytest.mark.usefixtures("no_bundle")
def test_a_missing_resource_names_where_it_looked() -> None:
    with pytest.raises(FileNotFoundError, match=r"data/nothing\.txt.*looked in"):
        resources.resource_path("data", "nothing.txt")
    with pytest.raises(ValueError, match="no 20 px"):
        resources.app_icon_path(20)
    with pytest.raises(ValueError, match="xml"):
        resources.sample_worklist("xml")
    with pytest.raises(ValueError, match="SCHEDULED"):
        resources.status_icon_path("SCHEDULED")


def test_a_bundle_is_searched_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """PyInstaller's layout: the package's data and translations under sys._MEIPASS/mppsconsole."""
    bundled = tmp_path / "mppsconsole"
    shutil.copytree(PACKAGE / "data", bundled / "data")
    shutil.copytree(PACKAGE / "translations", bundled / "translations")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)

    assert resources.resource_roots()[0] == bundled
    assert resources.app_icon_path() == bundled / "data" / "icons" / "mppsconsole.svg"
    assert resources.app_icon_path(48) == bundled / "data" / "icons" / "mppsconsole-48.png"
    assert resources.translations_dir() == bundled / "translations"
    assert resources.sample_worklist("csv") == bundled / "data" / "samples" / "sample-worklist.csv"
    assert resources.status_icon_path("COMPLETED").parent == bundled / "data" / "icons"


def test_a_bundle_missing_a_file_falls_back_to_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.translations_dir() == PACKAGE / "translations"


@pytest.mark.usefixtures("no_bundle")
def test_the_csv_and_json_samples_hold_the_same_items() -> None:
    def comparable(kind: str) -> list[dict[str, object]]:
        path = resources.sample_worklist(kind)
        items = parse_worklist_file(path.name, path.read_text(encoding="utf-8-sig"))
        skip = GENERATED | GENERATED_PROTOCOL
        return [{k: v for k, v in item.to_json().items() if k not in skip} for item in items]

    from_json = comparable("json")
    assert len(from_json) == 5
    assert comparable("csv") == from_json
    assert {item["patient_name"] for item in from_json} >= {"Müller^Jürgen", "张^伟"}


@pytest.mark.usefixtures("no_bundle")
def test_the_png_sizes_are_as_named() -> None:
    for size in resources.APP_ICON_SIZES:
        data = resources.app_icon_path(size).read_bytes()
        assert png_size(data) == (size, size), f"mppsconsole-{size}.png"


@pytest.mark.usefixtures("no_bundle")
def test_the_ico_holds_valid_pngs_of_the_windows_sizes() -> None:
    data = resources.resource_path("data", "icons", "mppsconsole.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1), "not an ICO"
    sizes = []
    for index in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * index : 22 + 16 * index]
        )
        side = width or 256
        assert height == width
        assert png_size(data[offset : offset + length]) == (side, side)
        sizes.append(side)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


@pytest.mark.usefixtures("no_bundle")
def test_the_icns_holds_valid_pngs() -> None:
    data = resources.resource_path("data", "icons", "mppsconsole.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    position, sides = 8, set()
    while position < len(data):
        length = struct.unpack(">I", data[position + 4 : position + 8])[0]
        sides.add(png_size(data[position + 8 : position + length])[0])
        position += length
    assert position == len(data)
    assert sides == {16, 32, 64, 128, 256, 512, 1024}


@pytest.mark.usefixtures("no_bundle")
def test_the_svgs_are_well_formed_and_sized() -> None:
    """Qt's SVG renderer takes SVG Tiny: well-formed XML with a viewBox is the least it needs."""
    svgs = [resources.app_icon_path(), *(resources.status_icon_path(s) for s in STATUSES)]
    for path in svgs:
        root = ET.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg", path.name
        assert root.get("viewBox"), path.name
