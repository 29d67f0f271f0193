"""The model registry: one name per model, resolved by the pipeline and the command line.

A new model is one module (a scikit-learn style estimator: ``__init__`` stores parameters,
``fit(X, y[, graph])`` returns ``self``, ``predict(X)``) and one registration::

    from crossscale.models import registry

    registry.register("ridge-expression", MyRidge, label="Ridge on expression")

after which ``crossscale fit --model ridge-expression --param alpha=2`` (and
``crossscale.pipeline.fit_map(..., model="ridge-expression")``) fits, cross-validates,
null-refits and reports it like GraphVAE, with no edit to ``evaluate/``, ``report/`` or ``cli/``.
The report's methods paragraph comes from the entry's ``methods`` function (else a generic
sentence naming the model and its ``get_params()``). Capabilities are the model's tags
(:class:`crossscale.models.tags.ModelTags`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crossscale._errors import ParameterError
from crossscale.models.tags import ModelTags, get_tags

__all__ = [
    "DEFAULT_MODEL", "ModelEntry", "available", "entry_of", "get", "parse_params", "parse_value", "register",
    "unregister",
]  # fmt: skip

#: The model of ``crossscale fit`` and ``crossscale benchmark`` unless told otherwise.
DEFAULT_MODEL = "graphvae"


@dataclass(frozen=True)
class ModelEntry:
    """A registered model.

    Attributes
    ----------
    name : str
        Registry key (lower case, e.g. ``"graphvae"``).
    factory : callable
        ``factory(**params)`` returns an unfitted estimator.
    label : str
        Display name in tables and reports (e.g. ``"GraphVAE"``).
    presets : mapping of str to mapping
        Named parameter sets; ``"default"`` (no parameters) always exists.
    loader : callable or None
        ``loader(path)`` loads a saved model (None: the model cannot be saved / loaded).
    description : str
        One line for listings.
    methods : callable or None
        ``methods(params, cite)`` returns the report's methods sentences (HTML) for a fitted
        model's ``get_params()``; ``cite(*keys)`` numbers citations of
        :data:`crossscale.report.methods.REFERENCES`. None: a generic sentence.
    references : tuple of str
        Keys of :data:`crossscale.report.methods.REFERENCES` cited wherever the model is named
        (e.g. the benchmark's methods).
    """

    name: str
    factory: Callable[..., Any]
    label: str
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: {"default": {}})
    loader: Callable[[str | os.PathLike[str]], Any] | None = None
    description: str = ""
    methods: Callable[[Mapping[str, Any], Callable[..., str]], str] | None = None
    references: tuple[str, ...] = ()

    @property
    def tags(self) -> ModelTags:
        """The capabilities of the model (:func:`crossscale.models.tags.get_tags` of ``factory()``)."""
        return get_tags(self.factory())

    def parameters(self) -> dict[str, Any]:
        """The default parameters of the model (``get_params()`` of ``factory()``)."""
        est = self.factory()
        if callable(getattr(est, "get_params", None)):
            return dict(est.get_params(deep=False))
        try:
            sig = inspect.signature(self.factory).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            return {}
        return {k: p.default for k, p in sig.items()
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}  # fmt: skip

    def create(self, preset: str = "default", **params: Any) -> Any:
        """An unfitted estimator: the `preset`'s parameters, overridden by `params`.

        Raises
        ------
        ParameterError
            Unknown preset, or a parameter the model does not take.
        """
        if preset not in self.presets:
            raise ParameterError(
                f"Model '{self.name}' has presets {', '.join(map(repr, self.presets))}; got "
                f"preset={preset!r}."
            )
        merged = dict(self.presets[preset]) | params
        accepted = self.parameters()
        unknown = sorted(k for k in merged if k not in accepted)
        if unknown:
            raise ParameterError(
                f"Model '{self.name}' has no parameter(s) {', '.join(map(repr, unknown))}; valid "
                f"parameters (--param KEY=VALUE): {', '.join(sorted(accepted)) or 'none'}."
            )
        return self.factory(**merged)

    def load(self, path: str | os.PathLike[str]) -> Any:
        """Load a model saved by this model's ``save``.

        Raises
        ------
        ParameterError
            The model registered no loader.
        """
        if self.loader is None:
            raise ParameterError(f"Model '{self.name}' cannot load saved models (no loader).")
        return self.loader(path)


_REGISTRY: dict[str, ModelEntry] = {}


def _key(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"A model name must be a non-empty string; got {name!r}.")
    return name.strip().lower()


def register(
    name: str,
    factory: Callable[..., Any],
    *,
    label: str | None = None,
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    loader: Callable[[str | os.PathLike[str]], Any] | None = None,
    description: str = "",
    methods: Callable[[Mapping[str, Any], Callable[..., str]], str] | None = None,
    references: tuple[str, ...] = (),
    replace: bool = False,
) -> ModelEntry:
    """Register a model under `name`.

    Parameters
    ----------
    name : str
        Registry key (case-insensitive).
    factory : callable
        ``factory(**params)`` returns an unfitted estimator (typically the estimator class).
    label : str, optional
        Display name (default: `name`).
    presets : mapping of str to mapping, optional
        Named parameter sets besides ``"default"`` (which is ``{}`` unless given).
    loader : callable, optional
        ``loader(path)`` loads a saved model (e.g. ``MyModel.load``).
    description : str
        One line for listings.
    methods : callable, optional
        ``methods(params, cite)`` -> the report's methods sentences (see :class:`ModelEntry`).
    references : tuple of str
        Citation keys of the model (see :class:`ModelEntry`).
    replace : bool
        Allow replacing an existing registration.

    Returns
    -------
    ModelEntry

    Raises
    ------
    ParameterError
        `name` is taken (and not `replace`) or `factory` is not callable.
    """
    key = _key(name)
    if key in _REGISTRY and not replace:
        raise ParameterError(
            f"A model named '{key}' is already registered ({_REGISTRY[key].label}); choose another "
            "name or pass replace=True."
        )
    if not callable(factory):
        raise ParameterError(f"factory of model '{key}' must be callable; got {factory!r}.")
    entry = ModelEntry(
        name=key, factory=factory, label=label or name, presets={"default": {}} | dict(presets or {}),
        loader=loader, description=description, methods=methods,
        references=tuple(references),
    )  # fmt: skip
    _REGISTRY[key] = entry
    return entry


def unregister(name: str) -> None:
    """Remove the model `name` (no error if absent)."""
    _REGISTRY.pop(_key(name), None)


def get(name: str) -> ModelEntry:
    """The registered model `name`.

    Raises
    ------
    ParameterError
        Unknown name; the message lists the registered ones.
    """
    key = _key(name)
    if key not in _REGISTRY:
        raise ParameterError(
            f"Unknown model {name!r}; registered models: {', '.join(available())}. Register "
            "a new one with crossscale.models.registry.register(name, factory)."
        )
    return _REGISTRY[key]


def available() -> list[str]:
    """Names of the registered models, in registration order."""
    return list(_REGISTRY)


def entry_of(model: Any) -> ModelEntry | None:
    """The entry of `model`: its registry key, label or class name, or an instance (else None)."""
    if isinstance(model, str):
        key = model.strip().lower()
        for entry in _REGISTRY.values():
            if key in (entry.name, entry.label.lower()):
                return entry
        cls_name = model
    else:
        cls_name = type(model).__name__
    for entry in _REGISTRY.values():
        if type(entry.factory()).__name__ == cls_name:
            return entry
    return None


def parse_value(text: str) -> Any:
    """A ``--param`` value: int, float, bool (true/false), None (none/null) or the string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_params(items: Sequence[str] | None, option: str = "--param") -> dict[str, Any]:
    """``["n_latent=4", "beta=0.1"]`` -> ``{"n_latent": 4, "beta": 0.1}`` (see :func:`parse_value`).

    Raises
    ------
    ParameterError
        An item is not ``KEY=VALUE`` or a key is given twice.
    """
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ParameterError(
                f"{option} must be KEY=VALUE with a parameter name as KEY (e.g. {option} "
                f"n_latent=4); got {item!r}."
            )
        if key in out:
            raise ParameterError(f"{option} {key} is given twice; give each parameter once.")
        out[key] = parse_value(value)
    return out


# -- built-in models (imported on first use: registering them loads no torch) -------------------
def _graphvae(**params: Any) -> Any:
    from crossscale.models.graphvae import GraphVAE

    return GraphVAE(**params)


def _load_graphvae(path: str | os.PathLike[str]) -> Any:
    from crossscale.models.graphvae import GraphVAE

    return GraphVAE.load(path)


def _graphvae_presets() -> dict[str, dict[str, Any]]:
    from crossscale.models.graphvae.estimator import REFERENCE_PARAMS

    return {"default": {}, "reference": dict(REFERENCE_PARAMS)}


def _graphvae_methods(params: Mapping[str, Any], cite: Callable[..., str]) -> str:
    from crossscale.models._methods import graphvae_methods

    return graphvae_methods(params, cite)


class _LazyPresets(Mapping):
    """Presets read from the model's module on first use."""

    def __init__(self, load: Callable[[], dict[str, dict[str, Any]]], names: tuple[str, ...]):
        self._load, self._names, self._data = load, names, None

    def _get(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._get()[key]

    def __iter__(self):  # noqa: ANN204
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._names


_REGISTRY[DEFAULT_MODEL] = ModelEntry(
    name=DEFAULT_MODEL,
    factory=_graphvae,
    label="GraphVAE",
    presets=_LazyPresets(_graphvae_presets, ("default", "reference")),
    loader=_load_graphvae,
    description="Graph-regularised VAE from regional expression to a regional map.",
    methods=_graphvae_methods,
    references=("vaithianathan2026",),
)
