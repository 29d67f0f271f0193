"""Readers that say what a file is: empty, header-only, Excel, binary, non-UTF-8, European CSV."""

import logging
import zipfile

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError
from crossscale.atlas import DK_REGIONS
from crossscale.maps import read_covariates, read_enigma_table, read_regional_map
from crossscale.maps._text import read_delimited

VALUES = np.round(np.linspace(-1.5, 1.5, 68), 4)
MINUS = "\u2212"


def _european(values=VALUES) -> str:
    """What Excel writes in a German/French locale: ';', decimal commas, Unicode minus."""
    rows = [
        f"{r};{str(v).replace('.', ',').replace('-', MINUS)}"
        for r, v in zip(DK_REGIONS, values, strict=True)
    ]
    return "region;d\n" + "\n".join(rows) + "\n"


def test_semicolon_decimal_comma_unicode_minus_map(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_text(_european(), encoding="utf-8")
    m = read_regional_map(p)
    np.testing.assert_array_equal(m.to_numpy(), VALUES)
    assert m.loc["L_bankssts"] == -1.5


def test_quoted_decimal_commas_in_a_comma_csv(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        "region,d\n"
        + "".join(
            f'{r},"{str(v).replace(".", ",")}"\n' for r, v in zip(DK_REGIONS, VALUES, strict=True)
        )
    )
    np.testing.assert_array_equal(read_regional_map(p).to_numpy(), VALUES)


@pytest.mark.parametrize(("encoding", "logged"), [("cp1252", "Windows-1252"), ("utf-16", None)])
def test_non_utf8_text_is_decoded(tmp_path, caplog, encoding, logged):
    p = tmp_path / "enc.csv"
    text = "région,d,note\n" + "".join(
        f"{r},{v},café\n" for r, v in zip(DK_REGIONS, VALUES, strict=True)
    )
    p.write_bytes(text.encode(encoding))
    with caplog.at_level(logging.WARNING):
        t = read_delimited(p, "The map file")
    assert list(t.columns) == ["région", "d", "note"] and t["note"].iloc[0] == "café"
    np.testing.assert_array_equal(t["d"].to_numpy(), VALUES)
    if logged:
        assert f"read it as {logged}" in caplog.text and "save the file as UTF-8" in caplog.text


def test_latin1_bytes_that_cp1252_lacks(tmp_path, caplog):
    p = tmp_path / "l1.csv"
    p.write_bytes(
        b"region,d,x\n"
        + b"".join(
            f"{r},{v},".encode() + b"\x81\n" for r, v in zip(DK_REGIONS, VALUES, strict=True)
        )
    )
    with caplog.at_level(logging.WARNING):
        np.testing.assert_array_equal(read_regional_map(p, value_column="d").to_numpy(), VALUES)
    assert "Latin-1" in caplog.text


def _xlsx(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", r"is empty \(0 bytes\)"),
        (b"\n  \n", r"is empty \(4 bytes\)"),
        (b"region,d\n", r"has a header line \(region, d\) but no data rows"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100),
            r"old-style Excel workbook \(.xls\).*Save As",
        ),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), r"is a PNG image, not a text table"),
        (b"%PDF-1.7\n", r"is a PDF document"),
        (b"region,d\x00\x01\x02\n", r"is a binary file \(it holds NUL bytes\)"),
        ("xlsx", r"is an Excel workbook \(.xlsx\), not a text table, although it is named '.csv'"),
    ],
)
@pytest.mark.parametrize("reader", [read_regional_map, read_enigma_table, read_covariates])
def test_files_that_are_not_tables_are_named(tmp_path, content, match, reader):
    p = tmp_path / "input.csv"
    if content == "xlsx":
        _xlsx(p)
    else:
        p.write_bytes(content)
    before = p.read_bytes()
    with pytest.raises(InputDataError, match=match):
        reader(p)
    assert p.read_bytes() == before


def test_european_subject_table_and_covariates(tmp_path):
    cols = [f"{r}_thickavg" for r in DK_REGIONS]
    rows = [";".join(["s1", *["2,5"] * 68]), ";".join(["s2", *["\u22121,0"] * 68])]
    (tmp_path / "t.csv").write_text("SubjID;" + ";".join(cols) + "\n" + "\n".join(rows) + "\n")
    t = read_enigma_table(tmp_path / "t.csv")
    assert t.shape == (2, 68) and t.iloc[0, 0] == 2.5 and t.iloc[1, 0] == -1.0
    (tmp_path / "c.csv").write_text("SubjID;Dx;Age;Sex\n001;AD;71,5;1\n002;CN;68,0;0\n")
    c = read_covariates(tmp_path / "c.csv")
    assert list(c.index) == ["001", "002"] and c["Age"].tolist() == [71.5, 68.0]
    assert pd.api.types.is_float_dtype(c["Age"])
