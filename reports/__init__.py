"""The report builder: turns the results JSON of conformance runs into one self-contained HTML
page that shows library maintainers where and how their library differs from the oracle.

    python -m reports [--results reports/results] [--baseline OLD_DIR] [--out reports/index.html]
                      [--expected-envs numpy,torch,...]     (or $XENT_EXPECTED_ENVS)
                      [--strict]      (exit 1 on an unreadable results file or a missing env)
    python -m reports issue FINDING_ID [--env ENV] [--results DIR]   (an upstream issue text)

Modules, in the order the data flows:

- ``load``: reads ``<env>.json`` files; a corrupt, truncated or invalid file becomes a
  ``Problem`` naming the file and what is wrong, and the other files still render; expected envs
  without a file (or with only a journal: the run died) are listed as missing;
- ``model``: the matrix (APIs grouped by loss x categories x envs, from the summary rows and
  the findings' outcomes) and the cases where only one library differs;
- ``notices``: what a reader must know first: the cases the harness failed on (no verdicts
  about the library, in none of its counts) with their causes, and the runs' warnings;
- ``summary``: the first screen, per library: findings by kind and the most consequential
  issues;
- ``diff``: findings that appeared, disappeared and changed against a baseline run, by finding
  id, as a page section and as text;
- ``registry``: the registry entries by library, each once with its envs, its stale runs and
  its failed claims;
- ``issue``: a finding as ready-to-file Markdown for the library's tracker (the page's
  script writes the same text);
- ``plots``: matplotlib figures (stability curves as inline SVG; ulp histograms and gradient
  error as PNG data URIs);
- ``payload``: what the page's script reads of each results file (its environment, registry
  entries and findings, column by column; arrays of more than 4096 elements as summaries,
  their reproducers reading them from the results file);
- ``build``: renders ``templates/index.html.j2`` with ``static/report.css`` and
  ``static/report.js`` inlined and each payload embedded gzip-compressed for the page's
  findings list.

The report reads nothing but results files and their format, ``conformance.results`` (the
schema, ``Finding``, the number encoding): not the adapters, the oracle or the registries, so
it renders results from any checkout, version or machine.
"""
