"""What an NTIRE ESR challenge's ``test_demo.py`` says about its entries, read from its source without running it.

``select_model(args, device)`` is the challenge's registry: an ``if`` / ``elif`` chain on the entry's id. The
repositories of different years write the test in several ways, all read here (:func:`ids_of`):

- ``if model_id == 21:`` / ``elif args.model_id == 38:`` (a name or an attribute, the literal on either side);
- negative ids (``model_id == -1``: a year whose baseline is -1);
- ``elif model_id in [5, 6]:`` (a list, tuple or set of literals), and ``or`` of any of these.

The first branch in source order that selects an id is the one that runs (:func:`read_branches`), as Python's
``if`` / ``elif`` would. :func:`precheck` says, from a branch alone, why its entry cannot load: a ``models/`` file
or a ``model_zoo/`` checkpoint it names that is not there, or a branch that makes no model (``elif ...: pass``).
:func:`read_forwards` finds the entries that ``run`` sends through their own function (``forward_team34``).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

__all__ = ["ids_of", "literal_strings", "precheck", "read_branches", "read_forwards"]

_CHECKPOINT_SUFFIXES = (".pth", ".pt", ".pkl", ".ckpt", ".safetensors")


def _int_literal(node: ast.AST) -> Optional[int]:
    """The integer a literal node holds (``3``, ``-1``), else None (booleans are not ids)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_literal(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return int(node.value)
    return None


def _is_model_id(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "model_id") or \
        (isinstance(node, ast.Attribute) and node.attr == "model_id")


def ids_of(test: ast.AST) -> Set[int]:
    """The ids an ``if`` test selects (see the module docstring); empty when it is no test of the id."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return set().union(*(ids_of(value) for value in test.values))
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return set()
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq):
        if _is_model_id(left) and _int_literal(right) is not None:
            return {_int_literal(right)}
        if _is_model_id(right) and _int_literal(left) is not None:
            return {_int_literal(left)}
    if isinstance(op, ast.In) and _is_model_id(left) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
        values = [_int_literal(element) for element in right.elts]
        return {v for v in values if v is not None}
    return set()


def read_branches(function: ast.FunctionDef) -> Dict[int, ast.If]:
    """``{id: the if-branch that handles it}`` of ``select_model`` (or any function), the first in source order."""
    branches: Dict[int, ast.If] = {}
    found = sorted((n for n in ast.walk(function) if isinstance(n, ast.If)), key=lambda n: (n.lineno, n.col_offset))
    for node in found:
        for model_id in sorted(ids_of(node.test)):
            branches.setdefault(model_id, node)
    return branches


def read_forwards(tree: ast.Module) -> Dict[int, str]:
    """``{id: function}`` for entries that ``run`` forwards through their own function
    (``if args.model_id == 34: img_sr = forward_team34(...)``)."""
    forwards: Dict[int, str] = {}
    run = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "run"]
    for model_id, node in (read_branches(run[0]) if run else {}).items():
        calls = [c.func.id for c in ast.walk(ast.Module(body=node.body, type_ignores=[]))
                 if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)]
        if calls:
            forwards[model_id] = calls[0]
    return forwards


def literal_strings(node: ast.AST) -> List[str]:
    """The string constants (and f-strings without placeholders) inside ``node``."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.append(sub.value)
        elif isinstance(sub, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in sub.values):
            found.append("".join(str(v.value) for v in sub.values))
    return found


def _makes_nothing(branch: ast.If) -> bool:
    """Whether a branch's body only passes (``elif model_id == 7: pass``, a docstring, ``...``)."""
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in branch.body)


def precheck(folder: Path, branch: ast.If) -> Optional[str]:
    """Why the entry of ``branch`` cannot load, read from its source alone; None when nothing is seen."""
    if _makes_nothing(branch):
        return "no model in select_model (its branch is empty)"
    body = ast.Module(body=branch.body, type_ignores=[])
    for node in ast.walk(body):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "models":
            path = folder / (node.module.replace(".", "/") + ".py")
            if not path.is_file():
                return f"missing file {path.relative_to(folder)} in {folder}"
    for text in literal_strings(body):
        if text.lower().endswith(_CHECKPOINT_SUFFIXES):
            candidates = [folder / "model_zoo" / Path(text).name, folder / text]
            if not any(c.is_file() for c in candidates):
                return f"missing file model_zoo/{Path(text).name} in {folder}"
    return None
