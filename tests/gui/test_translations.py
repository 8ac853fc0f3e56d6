"""The Simplified Chinese translation: complete, compiled, and used by the window."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator
from PySide6.QtWidgets import QApplication

from mppsconsole.gui.application import TRANSLATIONS_DIR, install_translators

TS = TRANSLATIONS_DIR / "mppsconsole_zh_CN.ts"
GUI_SOURCES = sorted((Path(__file__).parents[2] / "mppsconsole" / "gui").glob("*.py"))


def _messages(ts: Path) -> dict[tuple[str, str], str]:
    root = ET.parse(ts).getroot()
    found = {}
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None
            text = translation.findtext("numerusform") or translation.text or ""
            if translation.get("type") in ("obsolete", "vanished"):
                continue
            found[(name, message.findtext("source") or "")] = text
    return found


def test_every_string_in_the_code_is_translated(tmp_path: Path) -> None:
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    assert lupdate.exists() or shutil.which("pyside6-lupdate"), "PySide6's lupdate is missing"
    fresh = tmp_path / "fresh.ts"
    subprocess.run(
        [str(lupdate), *map(str, GUI_SOURCES), "-ts", str(fresh)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wanted = set(_messages(fresh))
    shipped = _messages(TS)
    missing = sorted(wanted - set(shipped))
    assert not missing, f"run scripts/translations and translate: {missing[:10]}"
    untranslated = sorted(key for key in wanted if not shipped[key].strip())
    assert not untranslated, f"untranslated: {untranslated[:10]}"


def test_the_compiled_translation_is_current_and_used(qapp: QApplication, tmp_path: Path) -> None:
    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    compiled = tmp_path / "fresh.qm"
    subprocess.run(
        [str(lrelease), str(TS), "-qm", str(compiled)], check=True, capture_output=True, timeout=120
    )
    assert compiled.read_bytes() == TS.with_suffix(".qm").read_bytes(), "run scripts/translations"
    installed = install_translators(qapp, "zh_CN")
    try:
        assert installed
        assert QCoreApplication.translate("MainWindow", "&Procedure steps") == "检查步骤(&P)"
        assert QCoreApplication.translate("StepTableModel", "Accession") == "检查号"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)
    assert QCoreApplication.translate("MainWindow", "&Procedure steps") == "&Procedure steps"


def test_english_needs_no_translator(qapp: QApplication) -> None:
    assert not QTranslator().load(str(TRANSLATIONS_DIR / "mppsconsole_en.qm"))
    installed = install_translators(qapp, "en")
    for translator in installed:
        qapp.removeTranslator(translator)
    assert QCoreApplication.translate("MainWindow", "&Quit") == "&Quit"
