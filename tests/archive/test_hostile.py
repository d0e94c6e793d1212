"""Hostile and broken archives: each is refused with a JSON 400 that names the entry and the
reason, and nothing is written (equal database snapshots before and after)."""

import io
import stat
import struct
import warnings
import zipfile

import pytest

from labels.archive import SafeArchive
from seeme.models import Item
from tests.archive.conftest import post_zip, upload_url
from tests.archive.helpers import csv_zip, make_zip, png
from tests.conftest import db_snapshot

pytestmark = pytest.mark.django_db


def raw_zip(infos: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names on purpose
        with zipfile.ZipFile(buffer, "w") as zf:
            for info, data in infos:
                zf.writestr(info, data)
    return buffer.getvalue()


def symlink_zip() -> bytes:
    link = zipfile.ZipInfo("train/cat/link.png")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return raw_zip([(zipfile.ZipInfo("train/cat/ok.png"), png()), (link, b"/etc/passwd")])


def non_utf8_zip() -> bytes:
    data = make_zip({"train/cafX.txt": "text"})
    return data.replace(b"cafX", b"caf\x82")  # cp437 bytes, no UTF-8 flag: not UTF-8


def bomb_zip() -> bytes:
    return make_zip({"train/zeros.txt": b"\0" * (20 << 20)})


def duplicate_zip() -> bytes:
    return raw_zip(
        [(zipfile.ZipInfo("train/a.txt"), b"one"), (zipfile.ZipInfo("train/a.txt"), b"two")]
    )


def overlapping_zip() -> bytes:
    """Two central-directory records pointing at the same local entry."""
    data = bytearray(make_zip({"train/a.txt": "a" * 100, "train/b.txt": "b" * 100}))
    at = data.rfind(b"PK\x01\x02")  # the second central record
    struct.pack_into("<I", data, at + 42, 0)  # its local header offset -> the first entry's
    return bytes(data)


CASES = {
    "absolute path": (make_zip({"/etc/passwd.txt": "x"}), "folders", "/etc/passwd.txt", "absolute"),
    "climbs out": (make_zip({"train/../../x.txt": "x"}), "folders", "train/../../x.txt", ".."),
    "backslash": (make_zip({"train\\..\\x.txt": "x"}), "folders", "train\\..\\x.txt", "backslash"),
    "symlink": (symlink_zip(), "folders", "train/cat/link.png", "symbolic link"),
    "non-utf8 name": (non_utf8_zip(), "folders", "'train/café.txt'", "not UTF-8"),
    "ratio bomb": (bomb_zip(), "folders", "", "compression ratio"),
    "duplicate": (duplicate_zip(), "folders", "train/a.txt", "duplicate"),
    "overlap": (overlapping_zip(), "folders", "train/b.txt", "overlaps"),
    "not a zip": (b"hello, I am not a zip", "folders", "", "not a zip"),
    "broken image": (
        make_zip({"train/cat/a.png": b"\x89PNG\r\n\x1a\n" + b"garbage" * 10}),
        "folders",
        "train/cat/a.png",
        "could not be decoded",
    ),
    "text named as image": (
        make_zip({"train/cat/a.png": b"not a png"}),
        "folders",
        "train/cat/a.png",
        "broken image",
    ),
    "scriptable": (
        make_zip({"train/a.txt": "<html><script>x</script>"}),
        "folders",
        "train/a.txt",
        "HTML",
    ),
    "too deep": (
        make_zip({"train/cat/sub/a.txt": "x", "valid/b.txt": "y"}),
        "folders",
        "train/cat/sub/a.txt",
        "nest",
    ),
    "binary": (make_zip({"train/a.exe": b"MZ\x90\x00\x03"}), "folders", "train/a.exe", "binary"),
    "text not utf8": (
        make_zip({"train/a.txt": b"\xff\xfe\xfa"}),
        "folders",
        "train/a.txt",
        "no accepted type",
    ),
    "unknown label index": (
        make_zip(
            {
                "obj.names": "cat\n",
                "train.txt": "train/1.png\n",
                "train/1.png": png(),
                "train/1.txt": "0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n",
            }
        ),
        "yolo",
        "train/1.txt",
        "unknown label index 3",
    ),
    "yolo missing image": (
        make_zip({"obj.names": "cat\n", "train.txt": "train/9.png\n"}),
        "yolo",
        "train.txt",
        "not in the archive",
    ),
    "csv missing columns": (
        csv_zip("a,b,split,labels\n1,2,train,x\n3,train\n"),
        "csv",
        "data.csv",
        "2 columns where the header has 4",
    ),
    "csv bad config": (
        make_zip({"config.json": "{nope", "d.csv": "a\n1\n"}),
        "csv",
        "config.json",
        "not valid JSON",
    ),
    "spacy bad offsets": (
        make_zip({"train.json": '[["hello", {"entities": [[0, 99, "X"]]}]]'}),
        "spacy-ner",
        "train.json",
        "outside the text",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_archive_is_refused_naming_entry_and_reason(api, version, case):
    data, fmt, entry, reason = CASES[case]
    before = db_snapshot()
    response = post_zip(api, upload_url(version, fmt), data)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert db_snapshot() == before
    assert body["problem_count"] >= 1
    assert any(p["entry"] == entry and reason in p["reason"] for p in body["problems"]), body
    assert body["message"].startswith("The archive has")
    assert any(reason in line for line in body["errors"]["file"])


def test_every_problem_is_listed_with_lines(api, version):
    rows = "a,split,labels\n1,train,x\n2\n3,train,x,extra\n4,train,\n"
    response = post_zip(api, upload_url(version, "csv"), csv_zip(rows))
    problems = response.json()["problems"]
    assert [(p["entry"], p["line"]) for p in problems] == [("data.csv", 3), ("data.csv", 4)]


def test_single_label_dataset_refuses_two_labels_on_one_item(api, version):
    data = make_zip({"train/cat/a.txt": "same", "train/dog/a.txt": "same"})
    response = post_zip(api, upload_url(version, "folders"), data)
    assert response.status_code == 400
    assert "single-label" in response.json()["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("setting", "value", "entries", "reason"),
    [
        ("SEEME_ARCHIVE_MAX_ENTRIES", 3, {f"train/{n}.txt": "x" for n in range(4)}, "entries"),
        ("SEEME_ARCHIVE_MAX_UNPACKED_MB", 1, {"train/a.txt": "y" * (2 << 20)}, "unpacks to"),
    ],
)
def test_limits_are_settings(api, version, settings, setting, value, entries, reason):
    setattr(settings, setting, value)
    before = db_snapshot()
    response = post_zip(api, upload_url(version, "folders"), make_zip(entries))
    assert response.status_code == 400
    assert reason in response.json()["problems"][0]["reason"]
    assert db_snapshot() == before


def test_archive_wide_refusal_reads_no_entry(monkeypatch):
    """A bomb is refused from the central directory alone: no entry is ever opened."""
    archive = SafeArchive.open(io.BytesIO(bomb_zip()))
    assert not archive.readable

    def never(*args, **kwargs):
        raise AssertionError("an entry was read")

    monkeypatch.setattr(zipfile.ZipFile, "open", never)
    from labels.archive import build_plan

    plan = build_plan(archive, "folders")
    assert plan.problems and not plan.items


def test_dry_run_of_a_hostile_archive_is_a_400_with_the_report(api, version):
    data = make_zip({"train/cat/a.png": b"\x89PNG\r\n\x1a\nbroken", "train/cat/b.txt": "fine"})
    response = post_zip(api, upload_url(version, "folders", dry_run="true"), data)
    assert response.status_code == 400
    body = response.json()
    assert body["report"]["items"] == 1
    assert body["problems"][0]["entry"] == "train/cat/a.png"


def test_junk_from_archivers_is_skipped(api, version):
    data = make_zip(
        {"__MACOSX/train/._a.txt": "junk", "train/.DS_Store": "junk", "train/a.txt": "a"}
    )
    response = post_zip(api, upload_url(version, "folders"), data)
    assert response.status_code == 200, response.json()


def test_an_upload_past_the_limit_is_a_413_read_no_further(api, version, settings):
    settings.SEEME_ARCHIVE_MAX_UNPACKED_MB = 1
    before = db_snapshot()
    response = post_zip(api, upload_url(version, "folders"), b"x" * (3 << 20))
    assert response.status_code == 413
    assert "SEEME_ARCHIVE_MAX_UNPACKED_MB" in response.json()["message"]
    assert db_snapshot() == before


def test_utf8_names_without_the_utf8_flag_are_read_as_utf8(api, version):
    """Some archivers (macOS Archive Utility) write UTF-8 names without setting the flag:
    those bytes are UTF-8, so they are accepted (only names that are not UTF-8 are not)."""
    data = bytearray(make_zip({"train/cafXX.txt": "text"}))
    data = data.replace(b"cafXX", "café".encode())  # 5 bytes for 5, no flag set
    response = post_zip(api, upload_url(version, "folders"), bytes(data))
    assert response.status_code == 200, response.json()
    assert Item.objects.get(dataset_version=version).name == "café.txt"
