from typer.testing import CliRunner

from crossscale import DatasetNotFoundError
from crossscale.cli.main import app

runner = CliRunner()


def test_data_list_and_info():
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0 and "ahba_expression" in result.output
    result = runner.invoke(app, ["data", "info", "adni2_ad_vol_baseline"])
    assert result.exit_code == 0
    assert (
        "Welch t" in result.output and "BSD-3-Clause" in result.output and "sha256" in result.output
    )


def test_data_info_unknown_name():
    result = runner.invoke(app, ["data", "info", "adni2_ad_vol_basline"])
    assert isinstance(result.exception, DatasetNotFoundError)
    assert "Did you mean 'adni2_ad_vol_baseline'" in str(result.exception)
