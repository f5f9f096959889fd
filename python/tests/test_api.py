"""The type stubs match the modules (every public name in a stub exists at
run time and every public run-time name is in the stubs, classes member by
member), every public class, function and method has a docstring, and the
package is the one-wheel abi3 build with IFMA chosen at run time."""

import ast
import importlib
import inspect
import pathlib

import pytest

import hekit

PKG = pathlib.Path(hekit.__file__).parent
MODULES = {
    "hekit": "__init__.pyi",
    "hekit.ckks": "ckks.pyi",
    "hekit.bfv": "bfv.pyi",
    "hekit.paillier": "paillier.pyi",
    "hekit.threshold": "threshold.pyi",
    "hekit.ml": "ml/__init__.pyi",
    "hekit.ml.inference": "ml/inference.pyi",
    "hekit.ml.aggregation": "ml/aggregation.pyi",
}


def stub_names(path):
    """Top-level public names, `__all__`, and public members per class."""
    tree = ast.parse((PKG / path).read_text())
    names, classes, all_ = set(), {}, None
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            classes[node.name] = {
                n.name if not isinstance(n, ast.Assign) else n.targets[0].id
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.Assign))
            }
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    if t.id == "__all__":
                        all_ = set(ast.literal_eval(node.value))
                    else:
                        names.add(t.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.level >= 1:
            names.update(a.asname for a in node.names if a.asname)
    return {n for n in names if not n.startswith("_") or n == "__version__"}, classes, all_


def runtime_members(cls):
    return {m for m in dir(cls) if not m.startswith("_")}


@pytest.mark.parametrize("module,stub", sorted(MODULES.items()))
def test_stub_matches_module(module, stub):
    mod = importlib.import_module(module)
    names, classes, all_ = stub_names(stub)
    assert all_ is not None, f"{stub} has no __all__"
    assert all_ == set(mod.__all__), (all_ ^ set(mod.__all__))
    # aliases local to the stubs (type aliases) are not runtime names
    aliases = {"Encoding", "Params", "AnyCiphertext", "Packing"}
    for name in names - aliases:
        assert hasattr(mod, name), f"{module}.{name} is in the stub but not in the module"
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException) and name in classes:
            stubbed = set(classes[name])
            # inherited stub members (the _Share base of the share types)
            for base in ("_Share",):
                if base in classes and name.endswith("Share"):
                    stubbed |= classes[base]
            public_stub = {m for m in stubbed if not m.startswith("_")}
            missing_at_runtime = public_stub - runtime_members(obj)
            assert not missing_at_runtime, f"{module}.{name}: {missing_at_runtime}"
            missing_in_stub = runtime_members(obj) - public_stub
            assert not missing_in_stub, f"{module}.{name} not in stub: {missing_in_stub}"


def public_objects():
    for module in MODULES:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            yield f"{module}.{name}", obj
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                for m in runtime_members(obj):
                    attr = inspect.getattr_static(obj, m)
                    if type(attr).__name__ in ("getset_descriptor", "member_descriptor"):
                        yield f"{module}.{name}.{m}", attr
                    elif callable(getattr(obj, m)) and not isinstance(getattr(obj, m), obj):
                        yield f"{module}.{name}.{m}", getattr(obj, m)


@pytest.mark.parametrize("name,obj", list(public_objects()), ids=lambda v: v if isinstance(v, str) else "")
def test_docstrings(name, obj):
    doc = inspect.getdoc(obj) if not type(obj).__name__.endswith("descriptor") else obj.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"


def test_modules_have_docstrings():
    for module in MODULES:
        assert importlib.import_module(module).__doc__, module


def test_one_abi3_extension_and_runtime_ifma():
    ext = [p.name for p in PKG.glob("_hekit*")]
    assert any(".abi3." in n for n in ext), ext
    assert isinstance(hekit.ifma_available(), bool)
    cpu = pathlib.Path("/proc/cpuinfo")
    if cpu.exists():
        assert hekit.ifma_available() == ("avx512ifma" in cpu.read_text())
