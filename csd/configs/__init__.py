"""The Hydra configs of `csd-run` (shipped as package data; `configs/` at the repository
root is a symlink to this folder)."""

from csd._src.config import register

register()  # config.yaml's schema (`csd_schema`), stored as soon as Hydra loads these configs
