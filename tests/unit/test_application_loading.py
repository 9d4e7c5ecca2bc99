"""An application is loaded by name, as uvicorn loads an app: a package in
the directory the command is typed in is found, and a name that leads
nowhere is a usage error (exit 2) that says why."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cqrskit.entrypoints.cli import main
from cqrskit.runtime.applications import ApplicationNotFound, load_application
from cqrskit.shop.app import app as SHOP

MINE = """
from cqrskit.shop.app import shop_application

app = shop_application()
app_factory = shop_application
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project directory with its own package `mydomain`, as the current
    directory."""
    (tmp_path / "mydomain").mkdir()
    (tmp_path / "mydomain" / "__init__.py").write_text("")
    (tmp_path / "mydomain" / "wiring.py").write_text(MINE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [m for m in sys.modules if m.split(".")[0] == "mydomain"]:
        del sys.modules[name]


def test_the_default_is_the_shop() -> None:
    assert load_application("cqrskit.shop.app:app") is SHOP


def test_a_package_in_the_current_directory_is_found(project: Path) -> None:
    app = load_application("mydomain.wiring:app")
    assert app.name == "shop"
    assert app is not SHOP


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("nowhere.at_all:app", "cannot import 'nowhere.at_all'"),
        ("cqrskit.shop.app:missing", "has no attribute 'missing'"),
        ("cqrskit.shop.app:shop_application", "not a cqrskit Application"),
        ("cqrskit.shop.app", "package.module:attribute"),
    ],
)
def test_a_name_that_leads_nowhere_is_refused_with_the_reason(
    name: str, says: str
) -> None:
    with pytest.raises(ApplicationNotFound, match=says):
        load_application(name)


@pytest.mark.parametrize("command", [["rebuild"], ["verify"], ["demo-data"]])
def test_every_role_refuses_an_unknown_app_as_a_usage_error(
    command: list[str], tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main, [*command, "--data-dir", str(tmp_path), "--app", "nowhere:app"]
    )
    assert result.exit_code == 2, result.output
    assert "cannot import 'nowhere'" in result.output
    assert not (tmp_path / "events.db").exists(), "it opened nothing"


def test_cqrskit_app_in_the_environment_names_the_app(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["demo-data", "--data-dir", str(tmp_path)],
        env={"CQRSKIT_APP": "cqrskit.shop.app:shop_application"},
    )
    assert result.exit_code == 2, result.output
    assert "not a cqrskit Application" in result.output
