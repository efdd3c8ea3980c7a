"""The Hydra configs of `csd-run` (shipped as package data; `configs/` at the repository
root is a symlink to this folder)."""
