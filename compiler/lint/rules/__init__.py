"""The lint rules, one module each; the registry lists them explicitly."""
