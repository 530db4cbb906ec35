"""The pre-commit hooks (.pre-commit-config.yaml) run the same checks as ``make lint``, from
the project's venv, without downloading anything (issue 19, item 7)."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _lint_commands() -> list[list[str]]:
    """The commands of the Makefile's ``lint`` recipe, ``$(BIN)/`` left out."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("lint:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(shlex.split(line.strip().replace("$(BIN)/", "")))
    return recipe


def _hooks() -> list[dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]  # nothing fetched
    return [h for r in config["repos"] for h in r["hooks"]]


def _split(args: list[str]) -> tuple[list[str], list[str]]:
    """(the tool, its subcommand and options; the paths it is given)."""
    paths = [a for a in args[1:] if a == "." or (ROOT / a).is_dir()]
    return [a for a in args if a not in paths], paths


def test_every_make_lint_check_is_a_hook_run_the_same_way():
    commands = _lint_commands()
    assert [c[0] for c in commands] == ["ruff", "ruff", "mypy"], commands
    hooks = _hooks()
    for command in commands:
        tool, paths = _split(command)
        matching = [
            h
            for h in hooks
            if [a for a in shlex.split(h["entry"]) if a != "--force-exclude"]
            == [".venv/bin/" + tool[0], *tool[1:]]
        ]
        assert len(matching) == 1, (command, hooks)
        hook = matching[0]
        assert hook["language"] == "system"  # the venv's pinned tools, offline
        files = re.compile(hook.get("files", ""))
        if not paths:  # the tool finds its files from pyproject.toml: run it whole
            assert hook.get("pass_filenames") is False, hook
            assert files.search("api/main.py"), hook
        elif paths == ["."]:  # every Python file of the tree
            assert "files" not in hook, hook
            assert {"python", "pyi"} <= set(hook["types_or"]), hook
        else:  # exactly the folders make lint names
            for folder in paths:
                assert files.search(f"{folder}/x.py"), (folder, hook)
            for other in ("web/x.py", "build/x.py", "x.py"):
                assert not files.search(other), (other, hook)
    assert len(hooks) == len(commands), hooks  # and nothing make lint does not do


def test_pre_commit_is_pinned_in_the_dev_extras():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^\s+"pre-commit==[\d.]+",', pyproject, re.M)
