"""Citations for the methods text of reports.

:data:`REFERENCES` maps a short key to the full citation of each dataset and method crossscale
uses. :class:`Bibliography` numbers citations in order of first use while a methods paragraph is
written (``bib.cite("ahba", "abagen")`` -> ``"[1, 2]"``) and renders the matching numbered list;
:func:`render_references` renders a fixed list.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from crossscale._errors import ParameterError

__all__ = ["REFERENCES", "Bibliography", "render_references"]

#: Short key -> full citation (authors, year, title, journal, volume, pages, DOI or arXiv).
REFERENCES: dict[str, str] = {
    "ahba": (
        "Hawrylycz M.J., Lein E.S., Guillozet-Bongaarts A.L. et al. (2012). An anatomically "
        "comprehensive atlas of the adult human brain transcriptome. Nature 489, 391-399. "
        "doi:10.1038/nature11405"
    ),
    "abagen": (
        "Markello R.D., Arnatkeviciute A., Poline J.-B., Fulcher B.D., Fornito A., Misic B. "
        "(2021). Standardizing workflows in imaging transcriptomics with the abagen toolbox. "
        "eLife 10, e72129. doi:10.7554/eLife.72129"
    ),
    "imaging_transcriptomics": (
        "Martins D., Giacomel A., Williams S.C.R., Turkheimer F., Dipasquale O., Veronese M. "
        "(2021). Imaging transcriptomics: convergent cellular, transcriptomic, and molecular "
        "neuroimaging signatures in the healthy adult human brain. Cell Reports 37, 110173. "
        "doi:10.1016/j.celrep.2021.110173"
    ),
    "lincs": (
        "Subramanian A., Narayan R., Corsello S.M. et al. (2017). A next generation "
        "Connectivity Map: L1000 platform and the first 1,000,000 profiles. Cell 171, "
        "1437-1452. doi:10.1016/j.cell.2017.10.049"
    ),
    "gcn": (
        "Kipf T.N., Welling M. (2017). Semi-supervised classification with graph convolutional "
        "networks. International Conference on Learning Representations (ICLR). "
        "arXiv:1609.02907"
    ),
    "vae": (
        "Kingma D.P., Welling M. (2014). Auto-encoding variational Bayes. International "
        "Conference on Learning Representations (ICLR). arXiv:1312.6114"
    ),
    "hansen2021": (
        "Hansen J.Y., Markello R.D., Vogel J.W., Seidlitz J., Bzdok D., Misic B. (2021). "
        "Mapping gene transcription and neurocognition across human neocortex. Nature Human "
        "Behaviour 5, 1240-1250. doi:10.1038/s41562-021-01082-z"
    ),
    "varma2006": (
        "Varma S., Simon R. (2006). Bias in error estimation when using cross-validation for "
        "model selection. BMC Bioinformatics 7, 91. doi:10.1186/1471-2105-7-91"
    ),
    "spin_test": (
        "Alexander-Bloch A.F., Shou H., Liu S. et al. (2018). On testing for spatial "
        "correspondence between maps of human brain structure and function. NeuroImage 178, "
        "540-551. doi:10.1016/j.neuroimage.2018.05.070"
    ),
    "markello2021_nulls": (
        "Markello R.D., Misic B. (2021). Comparing spatial null models for brain maps. "
        "NeuroImage 236, 118052. doi:10.1016/j.neuroimage.2021.118052"
    ),
    "raj2012": (
        "Raj A., Kuceyeski A., Weiner M. (2012). A network diffusion model of disease "
        "progression in dementia. Neuron 73, 1204-1215. doi:10.1016/j.neuron.2011.12.040"
    ),
    "adni": (
        "Jack C.R. Jr., Bernstein M.A., Fox N.C. et al. (2008). The Alzheimer's Disease "
        "Neuroimaging Initiative (ADNI): MRI methods. Journal of Magnetic Resonance Imaging 27, "
        "685-691. doi:10.1002/jmri.21049. Data from the ADNI database (adni.loni.usc.edu)"
    ),
    "desikan2006": (
        "Desikan R.S., Ségonne F., Fischl B. et al. (2006). An automated labeling system for "
        "subdividing the human cerebral cortex on MRI scans into gyral based regions of "
        "interest. NeuroImage 31, 968-980. doi:10.1016/j.neuroimage.2006.01.021"
    ),
    "schaefer2018": (
        "Schaefer A., Kong R., Gordon E.M. et al. (2018). Local-global parcellation of the human "
        "cerebral cortex from intrinsic functional connectivity MRI. Cerebral Cortex 28, "
        "3095-3114. doi:10.1093/cercor/bhx179"
    ),
    "glasser2016": (
        "Glasser M.F., Coalson T.S., Robinson E.C. et al. (2016). A multi-modal parcellation of "
        "human cerebral cortex. Nature 536, 171-178. doi:10.1038/nature18933"
    ),
    "hawrylycz2015": (
        "Hawrylycz M., Miller J.A., Menon V. et al. (2015). Canonical genetic signatures of the "
        "adult human brain. Nature Neuroscience 18, 1832-1844. doi:10.1038/nn.4171"
    ),
    "wagner2015": (
        "Wagner H.H., Dray S. (2015). Generating spatially constrained null models for "
        "irregularly spaced data using Moran spectral randomization methods. Methods in Ecology "
        "and Evolution 6, 1169-1178. doi:10.1111/2041-210X.12407"
    ),
    "freesurfer": (
        "Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781. doi:10.1016/j.neuroimage.2012.01.021"
    ),
    "enigma_toolbox": (
        "Larivière S., Paquola C., Park B. et al. (2021). The ENIGMA Toolbox: multiscale neural "
        "contextualization of multisite neuroimaging datasets. Nature Methods 18, 698-700. "
        "doi:10.1038/s41592-021-01186-4"
    ),
    "fulcher2021": (
        "Fulcher B.D., Arnatkeviciute A., Fornito A. (2021). Overcoming false-positive "
        "gene-category enrichment in the analysis of spatially resolved transcriptomic brain "
        "atlas data. Nature Communications 12, 2669. doi:10.1038/s41467-021-22862-1"
    ),
    "pls": (
        "Abdi H. (2010). Partial least squares regression and projection on latent structure "
        "regression (PLS regression). WIREs Computational Statistics 2, 97-106. "
        "doi:10.1002/wics.51"
    ),
    "wold_pls": (
        "Wold S., Sjöström M., Eriksson L. (2001). PLS-regression: a basic tool of "
        "chemometrics. Chemometrics and Intelligent Laboratory Systems 58, 109-130. "
        "doi:10.1016/S0169-7439(01)00155-1"
    ),
    "ridge": (
        "Hoerl A.E., Kennard R.W. (1970). Ridge regression: biased estimation for "
        "nonorthogonal problems. Technometrics 12, 55-67. doi:10.1080/00401706.1970.10488634"
    ),
    "vaithianathan2026": "Vaithianathan (2026). arXiv:2606.05870 (the reference model).",
    "scvi2018": (
        "Lopez R., Regier J., Cole M.B., Jordan M.I., Yosef N. (2018). Deep generative modeling "
        "for single-cell transcriptomics. Nat Methods 15, 1053-1058. doi:10.1038/s41592-018-0229-2"
    ),
    "kuhn1955": (
        "Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Research "
        "Logistics Quarterly 2, 83-97. doi:10.1002/nav.3800020109"
    ),
    "breiman1996": (
        "Breiman L. (1996). Stacked regressions. Machine Learning 24, 49-64. "
        "doi:10.1007/BF00117832"
    ),
    "pinnawala2025": (
        "Pinnawala et al. (2025). Learning mechanistic subtypes of neurodegeneration with a "
        "physics-informed variational autoencoder mixture model. arXiv:2509.15124"
    ),
    "weickenmeier2019": (
        "Weickenmeier J., Jucker M., Goriely A., Kuhl E. (2019). A physics-based model explains "
        "the prion-like features of neurodegeneration in Alzheimer's disease, Parkinson's "
        "disease, and amyotrophic lateral sclerosis. Journal of the Mechanics and Physics of "
        "Solids 124, 264-281. doi:10.1016/j.jmps.2018.10.013"
    ),
    "kim2018_savae": (
        "Kim Y., Wiseman S., Miller A.C., Sontag D., Rush A.M. (2018). Semi-amortized "
        "variational autoencoders. International Conference on Machine Learning (ICML). "
        "arXiv:1802.02550"
    ),
    "tierney1986": (
        "Tierney L., Kadane J.B. (1986). Accurate approximations for posterior moments and "
        "marginal densities. Journal of the American Statistical Association 81, 82-86. "
        "doi:10.1080/01621459.1986.10478240"
    ),
    "burda2016": (
        "Burda Y., Grosse R., Salakhutdinov R. (2016). Importance weighted autoencoders. "
        "International Conference on Learning Representations (ICLR). arXiv:1509.00519"
    ),
    "dempster1977": (
        "Dempster A.P., Laird N.M., Rubin D.B. (1977). Maximum likelihood from incomplete data "
        "via the EM algorithm. Journal of the Royal Statistical Society B 39, 1-38. "
        "doi:10.1111/j.2517-6161.1977.tb01600.x"
    ),
    "hastie2009": (
        "Hastie T., Tibshirani R., Friedman J. (2009). The Elements of Statistical Learning, "
        "2nd ed., section 7.10 (the one-standard-error rule). Springer. "
        "doi:10.1007/978-0-387-84858-7"
    ),
    "maslov2002": (
        "Maslov S., Sneppen K. (2002). Specificity and stability in topology of protein "
        "networks. Science 296, 910-913. doi:10.1126/science.1065103"
    ),
    "betzel2018": (
        "Betzel R.F., Bassett D.S. (2018). Specificity and robustness of long-distance "
        "connections in weighted, interareal connectomes. PNAS 115, E4880-E4889. "
        "doi:10.1073/pnas.1720186115"
    ),
    "phipson2010": (
        "Phipson B., Smyth G.K. (2010). Permutation p-values should never be zero: calculating "
        "exact p-values when permutations are randomly drawn. Statistical Applications in "
        "Genetics and Molecular Biology 9, 39. doi:10.2202/1544-6115.1585"
    ),
    "sundararajan2017": (
        "Sundararajan M., Taly A., Yan Q. (2017). Axiomatic attribution for deep networks. "
        "Proceedings of the 34th International Conference on Machine Learning (ICML), PMLR 70, "
        "3319-3328 (integrated gradients). arXiv:1703.01365"
    ),
    "lake2018": (
        "Lake B.B., Chen S., Sos B.C. et al. (2018). Integrative single-cell analysis of "
        "transcriptional and epigenetic states in the human adult brain. Nature Biotechnology "
        "36, 70-80. doi:10.1038/nbt.4038"
    ),
    "nakagawa2007": (
        "Nakagawa S., Cuthill I.C. (2007). Effect size, confidence interval and statistical "
        "significance: a practical guide for biologists. Biological Reviews 82, 591-605. "
        "doi:10.1111/j.1469-185X.2007.00027.x"
    ),
    "benjamini1995": (
        "Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate: a practical and "
        "powerful approach to multiple testing. J R Stat Soc B 57, 289-300. "
        "doi:10.1111/j.2517-6161.1995.tb02031.x"
    ),
    "fortin2018": (
        "Fortin J.-P., Cullen N., Sheline Y.I. et al. (2018). Harmonization of cortical "
        "thickness measurements across scanners and sites. NeuroImage 167, 104-120. "
        "doi:10.1016/j.neuroimage.2017.11.024"
    ),
    "pomponio2020": (
        "Pomponio R., Erus G., Habes M. et al. (2020). Harmonization of large MRI datasets for "
        "the analysis of brain imaging patterns throughout the lifespan. NeuroImage 208, "
        "116450. doi:10.1016/j.neuroimage.2019.116450"
    ),
}

_LINK = re.compile(r"(doi:(10\.\S+?)|arXiv:(\d{4}\.\d{4,5}))(?=[.,;]?(\s|$))")


def _check_keys(keys: Iterable[str]) -> list[str]:
    keys = list(keys)
    unknown = [k for k in keys if k not in REFERENCES]
    if unknown:
        raise ParameterError(
            f"Unknown reference key(s): {', '.join(map(repr, unknown))}. Known keys: "
            f"{', '.join(REFERENCES)}. Add the citation to crossscale.report.methods.REFERENCES."
        )
    return keys


def _html_citation(text: str) -> str:
    """Escape a citation and make its DOI / arXiv identifier a link."""

    def link(m: re.Match[str]) -> str:
        url = (
            f"https://doi.org/{m.group(2)}" if m.group(2) else f"https://arxiv.org/abs/{m.group(3)}"
        )
        return f'<a href="{html.escape(url)}">{m.group(1)}</a>'

    return _LINK.sub(link, html.escape(text, quote=False))


def render_references(
    keys: Iterable[str] | None = None, *, fmt: str = "html", anchors: bool = True
) -> str:
    """Render a numbered reference list.

    Parameters
    ----------
    keys : iterable of str, optional
        Keys of :data:`REFERENCES`, in the order to number them; default all, in table order.
    fmt : {"html", "text", "markdown"}
        ``html``: an ``<ol class="references">`` list with DOI/arXiv links (outbound links only;
        nothing is loaded). ``text``: lines ``[1] ...``. ``markdown``: a numbered list.
    anchors : bool
        HTML only: give each item the id ``ref-<key>`` (citation links point there). False for a
        second list on the same page (ids must be unique).

    Returns
    -------
    references : str

    Raises
    ------
    ParameterError
        Unknown key or format.
    """
    keys = _check_keys(REFERENCES if keys is None else keys)
    if fmt == "html":
        ids = [f' id="ref-{html.escape(k)}"' if anchors else "" for k in keys]
        items = "".join(
            f"<li{i}>{_html_citation(REFERENCES[k])}</li>" for i, k in zip(ids, keys, strict=True)
        )
        return f'<ol class="references">{items}</ol>'
    if fmt == "text":
        return "\n".join(f"[{i}] {REFERENCES[k]}" for i, k in enumerate(keys, 1))
    if fmt == "markdown":
        return "\n".join(f"{i}. {REFERENCES[k]}" for i, k in enumerate(keys, 1))
    raise ParameterError(f"fmt must be 'html', 'text' or 'markdown', got {fmt!r}.")


class Bibliography:
    """Number citations in order of first use.

    Examples
    --------
    >>> bib = Bibliography()
    >>> text = f"Expression from the AHBA {bib.cite('ahba')} processed as in abagen {bib.cite('abagen')}."
    >>> bib.cite("ahba", "gcn")
    '[1, 3]'
    >>> bib.keys
    ['ahba', 'abagen', 'gcn']
    """

    def __init__(self) -> None:
        self.keys: list[str] = []

    def cite(self, *keys: str, link: bool = False) -> str:
        """Return the bracketed numbers of `keys` (numbering new ones), e.g. ``"[2, 5]"``.

        Parameters
        ----------
        *keys : str
            Keys of :data:`REFERENCES`.
        link : bool
            Make each number an in-page link to its entry of :meth:`render` (HTML).

        Raises
        ------
        ParameterError
            Unknown key.
        """
        for key in _check_keys(keys):
            if key not in self.keys:
                self.keys.append(key)
        numbers = [str(self.keys.index(k) + 1) for k in keys]
        if link:
            numbers = [f'<a href="#ref-{k}">{n}</a>' for k, n in zip(keys, numbers, strict=True)]
        return "[" + ", ".join(numbers) + "]"

    def render(self, fmt: str = "html") -> str:
        """The numbered list of every key cited so far (see :func:`render_references`)."""
        return render_references(self.keys, fmt=fmt)
