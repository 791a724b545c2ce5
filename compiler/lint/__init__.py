"""procc lint: the template's review from six perspectives, as rules on the model.

``registry.RULES`` lists the rules (one module each under ``rules/``);
``engine.lint_files`` runs them with suppressions; ``report`` renders the
result as text, JSON, SARIF or GitHub annotations; ``outputs`` runs
ansible-lint, yamllint and pymarkdown on the generated files. This package
imports nothing eagerly so that ``procc`` starts fast.
"""
