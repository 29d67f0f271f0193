import pytest

from crossscale._errors import InputDataError, ParameterError
from crossscale.interpret import load_cell_type_sets, read_gmt


def test_read_gmt_tolerates_crlf_comments_trailing_tabs_and_duplicates(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_bytes(b"# comment\r\nAst\tNA\tGFAP\tAQP4\tGFAP\t\t\r\n\r\nMic\thttp://x\tP2RY12\r\n")
    sets = read_gmt(path)
    assert sets == {"Ast": ["GFAP", "AQP4"], "Mic": ["P2RY12"]}


def test_read_gmt_errors(tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_text("Ast GFAP AQP4\n")
    with pytest.raises(InputDataError, match="line 1: a GMT line needs name, description"):
        read_gmt(bad)
    dup = tmp_path / "dup.gmt"
    dup.write_text("A\td\tX\nA\td\tY\n")
    with pytest.raises(InputDataError, match="'A' appears twice"):
        read_gmt(dup)
    empty = tmp_path / "empty.gmt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(InputDataError, match="holds no gene set"):
        read_gmt(empty)
    with pytest.raises(InputDataError, match="does not exist"):
        read_gmt(tmp_path / "missing.gmt")


def test_cell_type_sets_from_registry():
    lake, pooled = load_cell_type_sets("lake"), load_cell_type_sets("pooled")
    assert len(lake) == 30 and {"Ast", "Mic", "Oli", "OPC", "End", "Per"} <= set(lake)
    assert len(pooled) == 7 and "Neuro_Exc" in pooled
    assert all(len(g) > 40 for g in lake.values())
    with pytest.raises(ParameterError, match="which must be one of"):
        load_cell_type_sets("allen")
