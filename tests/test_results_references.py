"""Every benchmark result the documentation cites exists (a renamed table must not leave a dead link).

README.md, the documentation pages and the docstrings of the package point users to
``benchmarks/results/<file>`` for the numbers behind a default; a docstring once cited
``graphvae_ablation_programs.md``, a file that never existed under that name.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CITED = re.compile(r"benchmarks/results/([A-Za-z0-9_.\-/]*[A-Za-z0-9_\-/])")


def cited_results(text: str) -> set[str]:
    """Paths under benchmarks/results/ named in `text` (trailing punctuation left out)."""
    return set(CITED.findall(text))


def test_cited_results_are_found_in_text():
    text = "see ``benchmarks/results/fit.md``, and (benchmarks/results/volume_figures/a.png). Or benchmarks/results/x.csv."
    assert cited_results(text) == {"fit.md", "volume_figures/a.png", "x.csv"}


def test_every_cited_result_exists():
    sources = [ROOT / "README.md", *(ROOT / "docs").glob("**/*.md"), *(ROOT / "src").glob("**/*.py")]
    sources = [p for p in sources if "_build" not in p.parts and "auto_examples" not in p.parts]
    missing = {
        f"{p.relative_to(ROOT)}: benchmarks/results/{name}"
        for p in sources
        for name in cited_results(p.read_text(encoding="utf-8"))
        if not (ROOT / "benchmarks" / "results" / name).exists()
    }
    assert not missing, sorted(missing)
