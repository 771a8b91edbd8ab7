"""API and CLI conventions, checked on every public function, class and command.

The names table of CONTRIBUTING.md is ``CANONICAL`` below: each concept has one name in the
Python API and one option in the CLI, and the synonyms it replaced are refused. Every public
callable carries numpydoc ``Parameters`` (naming each parameter) and ``Returns`` sections.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import pytest
import typer.main
from numpydoc.docscrape import ClassDoc, FunctionDoc

PUBLIC_PACKAGES = [
    "exprlab",
    "exprlab.errors",
    "exprlab.io",
    "exprlab.genes",
    "exprlab.drugs",
    "exprlab.datasets",
    "exprlab.signatures",
    "exprlab.evaluate",
    "exprlab.match",
    "exprlab.models",
    "exprlab.simulate",
    "exprlab.explain",
    "exprlab.report",
    "exprlab.workflows",
]

# concept -> (API parameter, CLI option, refused synonyms)
CANONICAL = {
    "count of top items kept or shown": (
        "top",
        "--top",
        {"n_top", "top_genes", "k", "topk", "top_k", "n_genes_top"},
    ),
    "several such counts": ("tops", "--tops", {"ks", "k_values", "sizes"}),
    "random seed": ("seed", "--seed", {"random_state", "rng_seed", "random_seed"}),
    "number of seeds of an ensemble": ("n_seeds", "--n-seeds", {"seeds"}),
    "quadrature steps of Integrated Gradients": ("n_steps", "--n-steps", {"steps"}),
    "output path": ("out", "--out", {"output_path", "out_path", "out_dir", "output_dir", "dst", "outdir"}),
    "model architecture name": ("arch", "--arch", {"architecture", "model_kind", "model_type"}),
    "obs column with class labels": ("label", "--label", {"label_key", "label_col", "label_column"}),
    "items per processing chunk": ("chunk_size", "--chunk-size", {"chunk_rows", "chunk_obs", "block_size"}),
    "replace an existing output": ("force", "--force", {"overwrite", "replace"}),
}
REFUSED = {syn: (api, cli) for api, cli, syns in CANONICAL.values() for syn in syns}


def _public_objects():
    seen = set()
    for pkg in PUBLIC_PACKAGES:
        module = importlib.import_module(pkg)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{pkg}.{name}", obj


PUBLIC = sorted(_public_objects(), key=lambda x: x[0])


def test_public_packages_leak_nothing():
    """__all__ names exist, and no module attribute outside __all__ is public."""
    leaks = []
    for pkg in PUBLIC_PACKAGES:
        module = importlib.import_module(pkg)
        if not hasattr(module, "__all__"):
            leaks.append(f"{pkg} (no __all__)")
            continue
        for name in module.__all__:
            assert hasattr(module, name), f"{pkg}.__all__ names a missing {name}"
        for name, value in vars(module).items():
            if name.startswith("_") or name in module.__all__:
                continue
            if inspect.ismodule(value) and value.__name__.startswith(pkg + "."):
                if value.__name__.rpartition(".")[2].startswith("_"):
                    leaks.append(f"{pkg}.{name}")
                continue  # public subpackages are reachable as attributes by design
            leaks.append(f"{pkg}.{name}")
    assert not leaks, "public names outside __all__: " + ", ".join(sorted(leaks))


def _signature(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_parameter_names_follow_the_names_table(name, obj):
    sig = _signature(obj)
    if sig is None:
        return
    bad = {p: REFUSED[p][0] for p in sig.parameters if p in REFUSED}
    assert not bad, f"{name}: rename " + ", ".join(f"{k} -> {v}" for k, v in bad.items())


def _documented(doc) -> set[str]:
    names = set()
    for param in doc["Parameters"]:
        for part in param.name.split(","):
            names.add(part.strip().lstrip("*"))
    return names


@pytest.mark.parametrize("name,obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_numpydoc_parameters_and_returns(name, obj):
    if issubclass(obj, BaseException) if inspect.isclass(obj) else False:
        return  # the exception family shares one documented constructor (ExprlabError)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = ClassDoc(obj) if inspect.isclass(obj) else FunctionDoc(obj)
    assert str(doc["Summary"]).strip(), f"{name}: no summary line"
    sig = _signature(obj)
    if sig is None:
        return
    params = [
        p
        for p, v in sig.parameters.items()
        if p not in {"self", "cls"} and v.kind not in (v.VAR_POSITIONAL, v.VAR_KEYWORD)
    ]
    if inspect.isclass(obj) and obj.__init__ is object.__init__:
        params = []
    missing = [p for p in params if p not in _documented(doc)]
    assert not missing, f"{name}: Parameters section lacks {missing}"
    if not inspect.isclass(obj):
        ret = sig.return_annotation
        if ret not in (None, "None"):
            assert doc["Returns"] or doc["Yields"], f"{name}: no Returns section"


def _commands():
    from exprlab.cli import app

    root = typer.main.get_command(app)

    def walk(cmd, path):
        yield path, cmd
        # typer may bundle its own click, so duck-type groups instead of isinstance(click.Group)
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {sub_name}")

    return list(walk(root, "exprlab"))


def test_cli_option_names_follow_the_names_table():
    bad = []
    for path, cmd in _commands():
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                name = opt.lstrip("-").replace("-", "_")
                if opt.startswith("--") and name in REFUSED:
                    bad.append(f"{path} {opt} -> {REFUSED[name][1]}")
    assert not bad, "\n".join(bad)


def test_short_flags_mean_one_thing_everywhere():
    meaning: dict[str, set[str]] = {}
    for _path, cmd in _commands():
        for param in cmd.params:
            opts = getattr(param, "opts", [])
            longs = [o for o in opts if o.startswith("--")]
            for o in opts:
                if re.fullmatch(r"-[A-Za-z]", o):
                    meaning.setdefault(o, set()).update(longs)
    clashes = {k: v for k, v in meaning.items() if len(v) > 1}
    assert not clashes, clashes


def test_boolean_options_are_flag_pairs_without_a_placeholder():
    """Every boolean option reads ``--flag/--no-flag`` and shows no ``<bool>`` value in help."""
    bad = []
    for path, cmd in _commands():
        for param in cmd.params:
            if getattr(param, "is_flag", False) and param.name != "help":
                if not getattr(param, "secondary_opts", None):
                    bad.append(f"{path} {param.opts[0]}: no --no- form")
                if param.metavar != "":
                    bad.append(f"{path} {param.opts[0]}: shows a value placeholder")
    assert not bad, "\n".join(bad)


def test_the_cli_walker_sees_subcommands():
    paths = {path for path, _ in _commands()}
    assert {"exprlab score", "exprlab match train", "exprlab library build"} <= paths


def test_choice_values_use_one_spelling():
    """Option values are snake_case (``ks_raw``, ``diffuse_lr``), never kebab-case."""
    bad = []
    for path, cmd in _commands():
        for param in cmd.params:
            choices = getattr(getattr(param, "type", None), "choices", None) or ()
            bad += [f"{path} {param.name}={c}" for c in choices if "-" in str(c)]
    assert not bad, bad


def test_functions_stay_under_80_lines_or_say_why():
    """A function longer than 80 lines carries a comment starting "Over 80 lines" saying why."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "exprlab"
    long = []
    for path in sorted(src.rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = lines[node.lineno - 1 : node.end_lineno]
                above = lines[max(0, node.lineno - 8) : node.lineno]  # comments above the decorators
                reason = any("Over 80 lines" in line for line in span + above)
                if node.end_lineno - node.lineno + 1 > 80 and not reason:
                    long.append(f"{path.relative_to(src.parent)}:{node.lineno} {node.name}")
    assert not long, "\n".join(long)


def _cli_defaults(option: str) -> dict[str, object]:
    return {
        f"{path} {option}": param.default
        for path, cmd in _commands()
        for param in cmd.params
        if option in getattr(param, "opts", [])
    }


def _api_defaults(parameter: str) -> dict[str, object]:
    found = {}
    for name, obj in PUBLIC:
        sig = _signature(obj)
        p = sig.parameters.get(parameter) if sig is not None else None
        if p is not None and p.default is not inspect.Parameter.empty:
            found[name] = p.default
    return found


def test_integrated_gradients_steps_have_one_default_everywhere():
    """Every ``--n-steps`` option and ``n_steps`` parameter defaults to ``N_STEPS`` (no 50 here, 3000 there)."""
    from exprlab._defaults import N_STEPS
    from exprlab.explain import N_STEPS as public_n_steps

    assert public_n_steps == N_STEPS
    cli, api = _cli_defaults("--n-steps"), _api_defaults("n_steps")
    # the commands and functions known to take the step count are all seen
    assert {
        "exprlab explain --n-steps",
        "exprlab xai-study --n-steps",
        "exprlab biomarkers --n-steps",
    } <= set(cli)
    assert {"exprlab.explain.integrated_gradients", "exprlab.workflows.StudyConfig"} <= set(api)
    other = {k: v for k, v in {**cli, **api}.items() if v != N_STEPS}
    assert not other, f"defaults other than N_STEPS={N_STEPS}: {other}"


def test_seeds_default_to_zero_everywhere():
    defaults = {**_cli_defaults("--seed"), **_api_defaults("seed")}
    assert len(defaults) > 20
    assert {k: v for k, v in defaults.items() if v != 0} == {}


def test_log2_has_one_default_rule_in_every_command():
    """``--log2`` left unset means the same everywhere: on for files of `exprlab simulate`, off otherwise."""
    defaults = _cli_defaults("--log2")
    assert {"exprlab train --log2", "exprlab biomarkers --log2", "exprlab xai-study --log2"} <= set(defaults)
    assert {k: v for k, v in defaults.items() if v is not None} == {}
