"""Path confinement as pure code: what is refused before any file is touched, and what symlinks may do."""

from __future__ import annotations

from pathlib import Path

import pytest

from aignostics_jupyter.exceptions import NotFoundError, PermissionDeniedError
from aignostics_jupyter.server.paths import MAX_PATH_LENGTH, confine, relative_to_root
from aignostics_jupyter.server.tile_messages import ApiRequest, etag_matches


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "slides").mkdir(parents=True)
    (tmp_path / "root" / "slides" / "a.svs").write_bytes(b"x")
    (tmp_path / "root" / ".hidden").mkdir()
    (tmp_path / "root" / ".hidden" / "b.svs").write_bytes(b"x")
    (tmp_path / "outside.svs").write_bytes(b"x")
    (tmp_path / "root" / "loop").symlink_to("loop")
    return (tmp_path / "root").resolve()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("", "required"),
        ("../outside.svs", "'..'"),
        ("slides/./a.svs", "'.'"),
        ("slides//a.svs", "empty"),
        ("/etc/passwd", "relative"),
        ("~/a.svs", "relative"),
        ("C:/a.svs", "relative"),
        ("slides\\a.svs", "separator"),
        ("slides/a.svs\x00", "control"),
        ("slides/%2e%2e/a.svs", "percent"),
        ("slides/a\udcc0.svs", "UTF-8"),
        ("x" * (MAX_PATH_LENGTH + 1), "longer"),
        (".hidden/b.svs", "hidden"),
        ("loop", "resolved"),
    ],
)
def test_refused_with_the_reason(root: Path, path: str, why: str) -> None:
    with pytest.raises(PermissionDeniedError, match=why) as caught:
        confine(root, path)

    assert str(root) not in caught.value.message


@pytest.mark.unit
def test_allowed_paths_resolve_inside_the_root(root: Path) -> None:
    assert confine(root, "slides/a.svs") == root / "slides" / "a.svs"
    assert confine(root, ".hidden/b.svs", allow_hidden=True) == root / ".hidden" / "b.svs"


@pytest.mark.unit
def test_a_missing_file_is_not_found(root: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no file .slides/none\.svs."):
        confine(root, "slides/none.svs")
    with pytest.raises(NotFoundError):
        confine(root, "slides/a.svs/deeper")


@pytest.mark.unit
def test_symlinks_may_not_lead_out(root: Path) -> None:
    (root / "out.svs").symlink_to(root.parent / "outside.svs")
    (root / "in.svs").symlink_to(root / "slides" / "a.svs")

    with pytest.raises(PermissionDeniedError, match="outside"):
        confine(root, "out.svs")
    assert confine(root, "in.svs") == root / "slides" / "a.svs"


@pytest.mark.unit
def test_relative_to_root(root: Path) -> None:
    assert relative_to_root(root, root / "slides" / "a.svs") == "slides/a.svs"
    assert relative_to_root(root, root.parent / "outside.svs") is None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ("*", True),
        ('"abd"', False),
    ],
)
def test_etag_matching(header: str | None, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


@pytest.mark.unit
def test_request_numbers_and_json() -> None:
    request = ApiRequest(query={"x": "1.5", "bad": "z", "inf": "inf"}, body=b'{"a": 1}')

    assert request.number("x") == 1.5
    assert request.number("missing", 2.0) == 2.0
    assert request.json() == {"a": 1}
    for name in ("bad", "inf", "missing"):
        with pytest.raises(ValueError, match=name):
            request.number(name)
