"""The PyInstaller bundle: build_installer.spec builds, the bundle starts, and it stays small.

Builds once per module (~25 s on the CI machine) into a temp folder, then runs the frozen
`wa-console --smoke` headless on a temp SQLite database.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import PyInstaller  # noqa: F401
except ImportError:
    HAVE_PYINSTALLER = False
else:
    HAVE_PYINSTALLER = True

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not HAVE_PYINSTALLER,
        reason="PyInstaller is not installed (pip install -e '.[test]'): bundle not built",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build_installer.spec"
NAME = "wa-console"
SIZE_BUDGET = 120 * 1000 * 1000  # bytes; a bare PySide6 window bundles to ~184 MB untrimmed
BUILD_TIMEOUT = 600
SMOKE_TIMEOUT = 120


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _tree_size(folder: Path) -> int:
    """Bytes in the files (and symlinks, not followed) under folder, like `du -sb` less dirs."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_symlink() or p.is_file())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build build_installer.spec into a temp dist folder and return the bundle's folder."""
    work = tmp_path_factory.mktemp("pyinstaller")
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(work / "dist"),
        "--workpath",
        str(work / "build"),
        str(SPEC),
    ]
    env = {k: v for k, v in os.environ.items() if k != "WA_PYINSTALLER_DEBUG"}
    result = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    if result.returncode != 0:
        pytest.fail(f"PyInstaller failed ({result.returncode}):\n{_tail(result.stderr)}")
    folder = work / "dist" / NAME
    assert folder.is_dir(), f"no bundle folder at {folder}"
    return folder


def _executable(folder: Path) -> Path:
    return folder / (NAME + (".exe" if sys.platform == "win32" else ""))


def test_bundle_smoke_run_opens_main_window_on_temp_database(bundle: Path, tmp_path: Path) -> None:
    """The frozen `wa-console --smoke` opens the main window on a new SQLite file and exits 0."""
    db_file = tmp_path / "smoke.db"
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_CONSOLE_", "XDG_"))}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        USERPROFILE=str(home),
        APPDATA=str(home / "AppData" / "Roaming"),
        LOCALAPPDATA=str(home / "AppData" / "Local"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(runtime),
    )
    result = subprocess.run(
        [str(_executable(bundle)), "--smoke", "--db", f"sqlite:///{db_file.as_posix()}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT,
    )
    assert result.returncode == 0, (
        f"bundle --smoke exited {result.returncode}\nstderr:\n{_tail(result.stderr)}"
    )
    assert db_file.is_file(), "the smoke run did not create the database file"


def test_bundle_size_within_budget(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The one-folder bundle stays within the 120 MB size budget (the size is reported)."""
    size = _tree_size(bundle)
    with capsys.disabled():  # shown even without -s
        print(f"\nwa-console bundle: {size / 1e6:.1f} MB ({size} bytes), budget 120 MB")
    assert size <= SIZE_BUDGET, (
        f"bundle is {size / 1e6:.1f} MB, over the {SIZE_BUDGET / 1e6:.0f} MB budget; "
        "see the trimming in build_installer.spec"
    )


def test_bundle_leaves_out_unused_qt_parts(bundle: Path) -> None:
    """No QtQuick/QML/PDF/WebEngine/3D/Multimedia libraries, eglfs plugins or Qt translations."""
    unused = re.compile(
        r"(^|[/\\])(lib)?Qt6?(Qml|Quick|Pdf|WebEngine|3D|Multimedia|VirtualKeyboard|Designer)"
        r"|[/\\]plugins[/\\](egldeviceintegrations|generic|sqldrivers|multimedia)[/\\]"
        r"|[/\\]translations[/\\][^/\\]+\.qm$"
        r"|[/\\](tkinter|unittest)[/\\]",
        re.IGNORECASE,
    )
    found = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if unused.search(str(p)))
    assert not found, f"unused parts were bundled: {found[:20]}"
