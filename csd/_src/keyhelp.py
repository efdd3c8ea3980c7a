"""`csd-run --help`: every config key with its value and its one-line description.

The descriptions are the comments beside the keys in `csd/configs` (config.yaml and the
group files, e.g. data/livebench.yaml), read when help is asked for: the YAML files are
the one place a key is described. A comment that goes on over the next lines (lines of
only a comment, indented) is joined into the one line.

Example:
  >>> descriptions("seed: 0   # the seed\\nsweep:\\n  schedules: [0]  # each T\\n"
  ...              "  n: 1  # a comment\\n       # that goes on\\n")
  {'seed': 'the seed', 'sweep.schedules': 'each T', 'sweep.n': 'a comment that goes on'}
"""

from __future__ import annotations

import re
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
_KEY = re.compile(r"^( *)([A-Za-z_][\w]*):(?:\s+([^#]*?))?\s*(?:#\s?(.*))?$")
_GROUP = re.compile(r"^ +- ([A-Za-z_]\w*): [^#]*#\s?(.*)$")  # `- data: livebench  # ...` of `defaults`
_MORE = re.compile(r"^( +)#\s?(.*)$")  # an indented line of only a comment: the one above goes on
_SKIPPED = ("hydra", "defaults")  # sections that are not csd-run's keys


def descriptions(text: str, prefix: str = "") -> dict[str, str]:
    """Dotted key -> its comment, for each key of the YAML `text` that has one (keys under
    `hydra` are left out; a config group of `defaults` gets the comment of its line there);
    `prefix` goes before every key (a group's name)."""
    found: dict[str, str] = {}
    path: list[tuple[int, str]] = []  # (indent, key) of the keys the current line is inside
    last = None
    for line in text.splitlines():
        more = _MORE.match(line)
        if more and last is not None and len(more.group(1)) > path[-1][0]:
            found[last] = f"{found[last]} {more.group(2).strip()}"
            continue
        group = _GROUP.match(line)
        if group and path and path[0][1] == "defaults":  # a config group: the section it fills
            found[prefix + group.group(1)] = group.group(2).strip()
        key = _KEY.match(line)
        if not key:
            last = None
            continue
        indent = len(key.group(1))
        path = [(i, k) for i, k in path if i < indent] + [(indent, key.group(2))]
        last = None
        if path[0][1] in _SKIPPED or not key.group(4):
            continue
        last = prefix + ".".join(k for _, k in path)
        found[last] = key.group(4).strip()
    return found


def config_descriptions(choices: dict[str, str] | None = None) -> dict[str, str]:
    """The descriptions of every key of csd-run's configs: config.yaml's, then each group
    file's under its group's name, the chosen option's (`choices`: group -> option) ahead
    of the others of its group."""
    found = descriptions((CONFIGS / "config.yaml").read_text(encoding="utf-8"))
    for group in sorted(p for p in CONFIGS.iterdir() if p.is_dir() and p.name not in ("hydra", "experiment")):
        chosen = (choices or {}).get(group.name)
        files = sorted(group.glob("*.yaml"), key=lambda f: (f.stem != chosen, f.stem))
        for file in files:
            for key, text in descriptions(file.read_text(encoding="utf-8"), f"{group.name}.").items():
                found.setdefault(key, text)
    return found


def described_config(config: DictConfig, found: dict[str, str]) -> str:
    """`config` (without `hydra`) as YAML, each key's line followed by `# its description`
    (from `found`, dotted keys), the comments aligned."""
    plain = OmegaConf.to_container(config, resolve=False)
    plain.pop("hydra", None)
    lines = OmegaConf.to_yaml(plain).splitlines()
    path: list[tuple[int, str]] = []
    keyed = []
    for line in lines:
        key = _KEY.match(line)
        if key:
            indent = len(key.group(1))
            path = [(i, k) for i, k in path if i < indent] + [(indent, key.group(2))]
        keyed.append((line, found.get(".".join(k for _, k in path)) if key else None))
    width = min(40, max(len(line) for line, text in keyed if text) if any(t for _, t in keyed) else 0)
    return "\n".join(f"{line:<{width}}  # {text}" if text else line for line, text in keyed)


def help_text(*, _root_: DictConfig) -> str:
    """The `${csd_config_help:}` of config.yaml's help template: the composed config, keys
    described (`$` doubled: Hydra fills the template in with `string.Template`)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        choices = dict(HydraConfig.get().runtime.choices)
    except ValueError:  # no Hydra config set: the group files' defaults first
        choices = None
    return described_config(_root_, config_descriptions(choices)).replace("$", "$$")
