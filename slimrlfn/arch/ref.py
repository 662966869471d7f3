"""Which model: :class:`ModelRef`, one value with one parser, and :func:`load_model`, the one way to load it.

Every command, notebook and record names a model the same way. A reference is a frozen ``{kind, args}``
(the kinds and their arguments: :data:`slimrlfn.arch.kinds.KINDS`), read by :meth:`ModelRef.parse` from any of
these forms, as timm's ``parse_model_name`` reads explicit prefixes beside bare names:

- explicit text: ``zoo:slimrlfn``, ``ckpt:runs/prune/final.pth``, ``class:nets.py:MySR``,
  ``challenge:../shared/ntire2024_esr#38`` (``#21+prune`` for a ``use_prune`` variant), ``derived:step_03.pth``;
- bare text (sugar): a zoo name, a ``.pth`` (a derived model when its ``.json`` is a derived record, else a
  workbook checkpoint), ``file.py:Class`` or ``package.module:Class``;
- a dict, or JSON text of one: ``{"kind": "class", "model": "nets.py:MySR", "checkpoint": "w.pth"}``; without
  ``kind`` it is the keyword form of the command-line flags (``{"challenge_repo": "...", "model_id": 38}``,
  ``{"model_id": 0}``), which older records store, and the kind follows from the keys.

:meth:`ModelRef.absolute` makes every path argument absolute (once: :func:`load_model` does it), and
:meth:`ModelRef.to_json` is the one JSON form that results entries, field members, pruning runs, derived models
and workbook parameters store and that :meth:`ModelRef.parse` reads back. Bad input is one
:class:`~slimrlfn.core.errors.UserError` line naming the flag.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from slimrlfn.arch.contract import check_data_range
from slimrlfn.arch.derived import is_derived
from slimrlfn.arch.kinds import COMMON_KEYS, KINDS, Kind
from slimrlfn.arch.spec import ModelSpec
from slimrlfn.arch.zoo import ZOO
from slimrlfn.core.errors import UserError

__all__ = ["ModelRef", "check_argument", "check_unique", "is_explicit", "json_object", "kind_of_prefix", "load_model",
           "load_models", "parse_kwargs", "resolve_model", "zoo_name_for_id"]

#: Every argument some kind takes.
_ALL_KEYS = tuple(dict.fromkeys(key for kind in KINDS.values() for key in kind.keys + COMMON_KEYS))
#: Keyword values that say "not given" (the command-line flags pass them when a flag is absent).
_NEUTRAL = {"use_prune": False, "strict": True, "kwargs": {}}


@dataclass(frozen=True)
class ModelRef:
    """A model reference: ``kind`` (a key of :data:`~slimrlfn.arch.kinds.KINDS`) and its checked ``args``."""

    kind: str
    args: Mapping[str, Any]

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", MappingProxyType(dict(sorted(self.args.items()))))

    @classmethod
    def parse(cls, value: Any, what: str = "--model", noun: str = "model", alternatives: str = "") -> "ModelRef":
        """The reference of ``value`` in any form of the module docstring; UserError (one line naming ``what``)
        otherwise (``noun``: what the flag takes; ``alternatives``: other words it accepts, e.g. ``", or none"``)."""
        if isinstance(value, ModelRef):
            return value
        if isinstance(value, ModelSpec):
            return value.ref
        if isinstance(value, Mapping):
            return _from_mapping(dict(value), what)
        text = str(value).strip()
        if text.startswith("{"):
            return _from_mapping(json_object(text, what, f"{noun} arguments"), what)
        prefix, colon, body = text.partition(":")
        kind = kind_of_prefix(prefix) if colon else None
        if kind is not None:
            return _build(kind, kind.from_body(body), what)
        return _from_bare(text, what, noun, alternatives)

    def absolute(self) -> "ModelRef":
        """The same reference with every path argument made absolute (against the current folder)."""
        paths = KINDS[self.kind].paths
        return ModelRef(self.kind, {k: paths[k](v) if k in paths else v for k, v in self.args.items()})

    def to_json(self) -> Dict[str, Any]:
        """``{"kind": ..., **args}``: what records store; :meth:`parse` reads it back."""
        return {"kind": self.kind, **{k: (dict(v) if isinstance(v, Mapping) else v) for k, v in self.args.items()}}

    @property
    def id(self) -> str:
        """The reference as sorted JSON text: equal for equal references (records match members by it)."""
        return json.dumps(self.to_json(), sort_keys=True)

    def text(self) -> str:
        """The shortest text that parses back to this reference: a zoo name, ``prefix:body``, or JSON when it has
        more arguments than its text form holds."""
        kind = KINDS[self.kind]
        identifying = set(kind.from_body(kind.body(self.args))) if kind.body else set()
        if kind.body is not None and set(self.args) <= identifying:
            body = kind.body(self.args)
            return body if self.kind == "zoo" else f"{kind.prefixes[0]}:{body}"
        return json.dumps(self.to_json(), sort_keys=True)

    def replace(self, **changes: Any) -> "ModelRef":
        """A reference of the same kind with some arguments changed (None removes one), checked again."""
        args = {**self.args, **changes}
        return _build(KINDS[self.kind], {k: v for k, v in args.items() if v is not None}, "--model")

    def __hash__(self) -> int:
        return hash(self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelRef) and self.id == other.id

    def __str__(self) -> str:
        return self.text()


def kind_of_prefix(prefix: str) -> Optional[Kind]:
    """The kind whose text form starts with ``prefix:``, or None."""
    return next((kind for kind in KINDS.values() if prefix in kind.prefixes), None)


def json_object(text: Union[str, Mapping[str, Any]], what: str, noun: str) -> Dict[str, Any]:
    """A dict from JSON text (or a mapping, copied); UserError naming ``what`` for invalid JSON or a non-object."""
    if isinstance(text, Mapping):
        return dict(text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} {text!r}: not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise UserError(f"{what} {text!r}: expected a JSON object of {noun}")
    return value


def parse_kwargs(text: Union[None, str, Mapping[str, Any]], what: str = "--kwargs") -> Dict[str, Any]:
    """Constructor arguments from JSON text (an object) or a mapping; ``{}`` for None or empty."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return {}
    return json_object(text, what, "constructor arguments")


def check_argument(key: str, value: Any) -> Any:
    """``value`` of argument ``key`` checked and normalised; UserError naming ``--key`` otherwise."""
    if key == "name":
        text = str(value)
        if not text.strip() or text in (".", "..") or any(c in text for c in "/\\") or len(text) > 200:
            raise UserError(f"--name {value!r}: expected a plain name of at most 200 characters (it names the results "
                            f"entry and its image folder), without / or \\")
        return text
    if key == "data_range":
        return check_data_range(value)
    if key == "model_id":
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not re.fullmatch(r"-?\d+", str(value)):
            raise UserError(f"--model_id {value!r}: expected an integer, the entry of test_demo.py")
        return int(value)
    if key in ("use_prune", "strict"):
        if not isinstance(value, bool):
            raise UserError(f"--{key} {value!r}: expected true or false")
        return value
    if key == "kwargs":
        return parse_kwargs(value)
    if not isinstance(value, (str, Path)) or not str(value).strip():
        raise UserError(f"--{key} {value!r}: expected a path or name")
    return str(value)


def is_explicit(text: Any) -> bool:
    """Whether ``text`` names its kind itself: a prefix (``zoo:``, ``challenge:``, ...) or a JSON object; a bare
    form's kind is guessed (sugar)."""
    text = str(text).strip()
    return text.startswith("{") or (":" in text and kind_of_prefix(text.partition(":")[0]) is not None)


def zoo_name_for_id(model_id: Optional[int], use_prune: bool = False) -> str:
    """The zoo name of an official ``--model_id`` (0 RLFN, 21 SlimRLFN, the default; ``use_prune``: SlimRLFN-prune)."""
    model_id = 21 if model_id is None else model_id
    if model_id == 0 and not use_prune:
        return "rlfn"
    if model_id == 21:
        return "slimrlfn_prune" if use_prune else "slimrlfn"
    if use_prune:
        raise UserError("--use_prune: only with --model_id 21 (or an entry of --challenge_repo that has a pruned "
                        "variant)")
    raise UserError(f"--model_id {model_id}: expected 0 (RLFN baseline) or 21 (SlimRLFN), or give --challenge_repo "
                    f"for the entries of a challenge repository")


def _from_bare(text: str, what: str, noun: str, alternatives: str) -> ModelRef:
    if text in ZOO:
        return _build(KINDS["zoo"], {"model": text}, what)
    path = Path(text)
    if path.suffix == ".py":
        raise UserError(f"{what} {text!r}: a model file needs its class; expected path/to/file.py:ClassName")
    if path.suffix == ".pth" or path.exists():
        return _build(KINDS["derived" if is_derived(path) else "checkpoint"], {"checkpoint": text}, what)
    if ":" in text:
        return _build(KINDS["class"], {"model": text}, what)
    raise UserError(f"{what} {text!r}: unknown {noun}; expected a zoo name ({', '.join(ZOO)}), the path of a "
                    f"checkpoint .pth, a model class file.py:ClassName, a prefixed reference (zoo:, ckpt:, class:, "
                    f"challenge:DIR#ID, derived:) or a JSON object of model arguments{alternatives}")


def _from_mapping(args: Dict[str, Any], what: str) -> ModelRef:
    args = {k: v for k, v in args.items() if v is not None and not (k in _NEUTRAL and v == _NEUTRAL[k])}
    kind_name = args.pop("kind", None)
    if kind_name is not None:
        kind = KINDS.get(str(kind_name)) or kind_of_prefix(str(kind_name))
        if kind is None:
            raise UserError(f"{what} {json.dumps({'kind': kind_name, **args}, default=str)}: unknown kind "
                            f"{kind_name!r}; expected one of {', '.join(KINDS)}")
        return _build(kind, args, what)
    unknown = sorted(set(args) - set(_ALL_KEYS))
    if unknown:
        raise UserError(f"{what} {json.dumps(args, default=str)}: unknown keys {unknown}; expected some of "
                        f"{['kind', *_ALL_KEYS]}")
    model = args.get("model")
    if model is not None and is_explicit(model) and not str(model).strip().startswith("{"):  # {"model": "zoo:rlfn"}
        parsed = ModelRef.parse(args.pop("model"), what)
        return _build(KINDS[parsed.kind], {**parsed.args, **args}, what)
    return _build(_kind_of_keywords(args), args, what)


def _kind_of_keywords(args: Dict[str, Any]) -> Kind:
    """The kind the keyword form names (it changes ``args`` for a zoo model named by ``model_id``)."""
    if "challenge_repo" in args:
        for key in ("model", "checkpoint"):
            if key in args:
                raise UserError(f"--{key}: give either it or --challenge_repo, not both")
        if "model_id" not in args:
            raise UserError("--challenge_repo: give --model_id N, the entry of test_demo.py to load")
        return KINDS["challenge"]
    model = args.get("model")
    if model is not None and ":" in str(model):
        return KINDS["class"]
    if "checkpoint" in args:
        if model is not None or "model_id" in args:
            raise UserError("--checkpoint: give either --checkpoint or --model/--model_id, not both")
        derived = "config" not in args and is_derived(args["checkpoint"])
        return KINDS["derived" if derived else "checkpoint"]
    if model is None:
        args["model"] = zoo_name_for_id(check_argument("model_id", args.pop("model_id", 21)),
                                        args.pop("use_prune", False) is True)
    elif "model_id" in args:
        raise UserError("--model: give either --model or --model_id, not both")
    return KINDS["zoo"]


def _refusal(kind: Kind, key: str) -> str:
    owners = [k for k in KINDS.values() if key in k.keys]
    if [k.name for k in owners] == ["class"]:
        return f"--{key}: only for a model class (path/to/file.py:ClassName), not for {kind.what}"
    return f"--{key}: not for {kind.what} (only for {' or '.join(k.what for k in owners)})"


def _build(kind: Kind, args: Dict[str, Any], what: str) -> ModelRef:
    """The checked reference of ``kind`` with ``args`` (the refusals, checks and defaults of its row)."""
    checked: Dict[str, Any] = {}
    for key, value in args.items():
        if key not in kind.keys + COMMON_KEYS:
            if key in kind.fixed and check_argument(key, value) == kind.fixed[key]:
                continue  # e.g. --data_range 255 of a zoo model: what it is anyway
            if key not in _ALL_KEYS:
                raise UserError(f"{what} {json.dumps(args, default=str)}: unknown keys [{key!r}]; expected some of "
                                f"{['kind', *kind.keys, *COMMON_KEYS]}")
            raise UserError(_refusal(kind, key))
        checked[key] = check_argument(key, value)
    for key in kind.required:
        if key not in checked:
            if key == "model_id":
                raise UserError("--challenge_repo: give --model_id N, the entry of test_demo.py to load")
            raise UserError(f"{what}: {kind.what} needs --{key}")
    checked = {k: v for k, v in checked.items() if not (k in kind.defaults and v == kind.defaults[k])}
    kind.check(checked)
    return ModelRef(kind.name, checked)


def load_model(value: Any, what: str = "--model", noun: str = "model", alternatives: str = "") -> ModelSpec:
    """The model ``value`` names (any form :meth:`ModelRef.parse` reads), loaded by its kind's row: eval mode, CPU,
    every checkpoint read with ``weights_only=True``; its ``ref`` is absolute. UserError (one line)
    for anything unknown, missing, unfitting or refused."""
    ref = ModelRef.parse(value, what, noun, alternatives)
    spec = KINDS[ref.kind].load(ref, load_model)  # messages name the paths as given
    spec.ref = ref.absolute()
    return spec


def resolve_model(ref: Any = None, **keywords: Any) -> ModelSpec:
    """:func:`load_model` of ``ref``, or of the keyword form (``model=``, ``checkpoint=``, ``challenge_repo=``,
    ``model_id=``, ...: the command-line flags' names)."""
    if ref is not None and keywords:
        raise TypeError("resolve_model: give a reference or keywords, not both")
    return load_model(ref if ref is not None else keywords)


def load_models(values: Sequence[Any], what: str = "--models") -> List[ModelSpec]:
    """:func:`load_model` of each; UserError when two have the same results key."""
    return check_unique([load_model(value, what) for value in values], what)


def check_unique(specs: List[ModelSpec], what: str = "--models") -> List[ModelSpec]:
    """``specs``; UserError when two have the same results key."""
    keys = [spec.result_name for spec in specs]
    if len(set(keys)) != len(keys):
        raise UserError(f"{what}: a model is named twice ({', '.join(sorted({k for k in keys if keys.count(k) > 1}))})")
    return specs
