"""Independent checks of the engine, shared by the tests and the benchmarks (like numpy.testing).

- `csd.testing.reference`: a plain-Python simulator of docs/rules.md, one run at a time.
- `csd.testing.exact`: exact expectations of the same rules by enumeration (small M, K).
- `csd.testing.agreement`: the Monte Carlo tolerance checks of estimates against exact values.
- `csd.testing.tournament_inputs`: the rule names, default seed order and test tensors the
  two share.
- `csd.testing.png`: a PNG's size, read without an image library.

None of them imports pytest or JAX; they share no code with `csd._src`.
"""
